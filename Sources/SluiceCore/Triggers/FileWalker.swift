import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file found under a trigger's directory.
public struct ScannedFile: Sendable, Hashable {
    /// Path relative to the trigger's directory, `/`-separated.
    public let path: String
    public let size: Int64
    /// Modification time, Unix seconds.
    public let modified: Double
}

/// Lists a directory tree with readdir and fstatat: FileManager's enumerator costs several
/// times more per file, which shows on trees of 100,000 files. Hidden entries (`.name`) and
/// files still being written under a `.tmp`/`.part` suffix are skipped; unreadable
/// subdirectories are reported, not fatal.
enum FileWalker {
    struct Listing {
        var files: [ScannedFile] = []
        var errors: [String] = []
    }

    static func list(_ root: String) -> Listing {
        var listing = Listing()
        walk(root, prefix: "", into: &listing)
        return listing
    }

    private static func walk(_ directory: String, prefix: String, into listing: inout Listing) {
        guard let handle = opendir(directory) else {
            listing.errors.append("\(directory): \(String(cString: strerror(errno)))")
            return
        }
        defer { closedir(handle) }
        let fd = dirfd(handle)
        var subdirectories: [String] = []
        while let entry = readdir(handle) {
            // Read the name in place up to its NUL: a dirent can be shorter than its declared
            // 256-byte name field, so copying the whole field may run off the mapped buffer.
            let name = withUnsafePointer(to: &entry.pointee.d_name) { field in
                field.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix(".") || name.hasSuffix(".tmp") || name.hasSuffix(".part") { continue }
            var info = stat()
            guard fstatat(fd, name, &info, 0) == 0 else { continue }
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            if (info.st_mode & S_IFMT) == S_IFDIR {
                subdirectories.append(name)
            } else if (info.st_mode & S_IFMT) == S_IFREG {
                let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
                listing.files.append(ScannedFile(path: relative, size: Int64(info.st_size), modified: modified))
            }
        }
        for name in subdirectories {
            walk(directory + "/" + name, prefix: prefix.isEmpty ? name : prefix + "/" + name, into: &listing)
        }
    }
}
