import Foundation
import SluiceCore

/// A submit's queue and priority, read with the rules of `Names`: a 400 naming the field
/// instead of an execution no pool claims or a priority stored as another number.
extension RequestBody {
    func queue() throws -> String {
        let queue = try string("queue") ?? "default"
        if let problem = Names.queueProblem(queue) { throw APIError.invalid("/queue: \(problem)") }
        return queue
    }

    func priority() throws -> Int {
        guard let value = object["priority"], !(value is NSNull) else { return 0 }
        guard !isJSONBoolean(value), let number = value as? NSNumber, let priority = Names.priority(fromJSON: number.doubleValue) else {
            throw APIError.invalid("/priority: \(Names.priorityRule)")
        }
        return priority
    }
}
