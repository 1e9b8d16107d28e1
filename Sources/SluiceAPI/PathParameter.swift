import Foundation
import Hummingbird

extension RequestContext {
    /// A path parameter, percent-decoded: the router matches on the raw path, so
    /// `/v1/definitions/my%20def` names `my def`. Every route reads its parameters here.
    /// Malformed escapes (`%zz`) and a NUL (`%00`, which would cut a name short further down)
    /// are refused with a 400 that names the parameter.
    func pathParameter(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return raw }
        guard let decoded = raw.removingPercentEncoding else {
            throw APIError.invalid("path parameter \(name) is not valid percent-encoding: \(raw)")
        }
        guard !decoded.utf8.contains(0) else { throw APIError.invalid("path parameter \(name) contains a NUL character (%00)") }
        return decoded
    }
}
