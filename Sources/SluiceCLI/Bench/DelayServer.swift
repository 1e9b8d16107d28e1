import Foundation
import SluiceHTTP
#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP/1.1 server for `bench http --delay-ms`: every request is answered with
/// `ok` after a fixed delay. A thread per connection, keep-alive; enough for a thousand
/// connections at once, which nginx (no delay endpoint) cannot stand in for.
final class DelayServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let delayMicroseconds: UInt32

    init(delayMilliseconds: Int) throws {
        delayMicroseconds = UInt32(delayMilliseconds * 1000)
        let socket = try LoopbackListener()
        listener = socket.descriptor
        port = socket.port
        let thread = Thread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                let worker = Thread { [self] in serve(client) }
                worker.stackSize = 64 * 1024
                worker.start()
            }
        }
        thread.start()
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok".utf8)
        while true {
            while buffer.firstRange(of: [13, 10, 13, 10]) == nil {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[..<n])
            }
            let end = buffer.firstRange(of: [13, 10, 13, 10])!
            buffer.removeFirst(end.upperBound)
            usleep(delayMicroseconds)
            if reply.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) <= 0 { return }
        }
    }
}
