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
///
/// The walk ends on any tree. Symlinks to directories are followed (a trigger may watch a
/// linked folder), except one that leads back to a directory on the current path (`a -> .`,
/// `b -> ..`): that would be a loop, which grew a walk by 20 MB/s until the memory ran out.
/// Two bounds cap what one pass may cost — entries seen and depth — and a stop flag, checked
/// per entry, ends a walk at once when the scanner stops (SIGTERM mid-scan).
enum FileWalker {
    struct Limits: Sendable {
        /// Files and directories one pass may look at (about 100 bytes each in the listing).
        var maxEntries: Int
        /// Directories below the root a pass may descend.
        var maxDepth: Int

        init(maxEntries: Int = 1_000_000, maxDepth: Int = 64) {
            self.maxEntries = maxEntries
            self.maxDepth = maxDepth
        }

        static let standard = Limits()
    }

    /// Why a walk ended before the whole tree was listed.
    enum Stop: Equatable, CustomStringConvertible {
        case maxEntries(Int)
        case maxDepth(Int)
        case cancelled

        var description: String {
            switch self {
            case let .maxEntries(limit):
                return "the walk stopped at its bound of \(limit) entries (maxEntries); nothing was started from this pass, the next pass tries again"
            case let .maxDepth(limit):
                return "the walk stopped at its bound of \(limit) directory levels (maxDepth); nothing was started from this pass, the next pass tries again"
            case .cancelled:
                return "the walk was stopped (the scanner is shutting down)"
            }
        }
    }

    struct Listing {
        var files: [ScannedFile] = []
        /// The first `maxErrors` unreadable directories, then one line counting the rest: the
        /// scanner logs these every pass, and a tree like `/proc` has hundreds.
        var errors: [String] = []
        /// Set when the listing is partial.
        var stop: Stop?
        private var unreported = 0

        static let maxErrors = 5

        mutating func unreadable(_ directory: String, _ code: Int32) {
            if errors.count < Self.maxErrors { errors.append("\(directory): \(String(cString: strerror(code)))") } else { unreported += 1 }
        }

        /// Adds the count of the unreadable directories not named.
        mutating func summarise() {
            if unreported > 0 { errors.append("and \(unreported) more directories could not be read") }
            unreported = 0
        }
    }

    /// A directory's identity, to recognise a link back to one on the current path.
    private struct DirectoryID: Hashable {
        let device: UInt64
        let inode: UInt64
        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    private struct Walk {
        let limits: Limits
        let isCancelled: () -> Bool
        var listing = Listing()
        var entries = 0
        /// The directories from the root to the one being read.
        var onPath: Set<DirectoryID> = []
    }

    static func list(_ root: String, limits: Limits = .standard, isCancelled: @escaping () -> Bool = { false }) -> Listing {
        var walk = Walk(limits: limits, isCancelled: isCancelled)
        var info = stat()
        if stat(root, &info) == 0 { walk.onPath.insert(DirectoryID(info)) }
        self.walk(root, prefix: "", depth: 0, &walk)
        walk.listing.summarise()
        return walk.listing
    }

    /// Lists one directory, closes it, then descends: an open handle per level is not kept.
    private static func walk(_ directory: String, prefix: String, depth: Int, _ walk: inout Walk) {
        guard let handle = opendir(directory) else {
            walk.listing.unreadable(directory, errno)
            return
        }
        let fd = dirfd(handle)
        var subdirectories: [(name: String, id: DirectoryID)] = []
        while let entry = readdir(handle) {
            if walk.isCancelled() { walk.listing.stop = .cancelled; break }
            // Read the name in place up to its NUL: a dirent can be shorter than its declared
            // 256-byte name field, so copying the whole field may run off the mapped buffer.
            let name = withUnsafePointer(to: &entry.pointee.d_name) { field in
                field.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix(".") || name.hasSuffix(".tmp") || name.hasSuffix(".part") { continue }
            walk.entries += 1
            if walk.entries > walk.limits.maxEntries { walk.listing.stop = .maxEntries(walk.limits.maxEntries); break }
            var info = stat()
            guard fstatat(fd, name, &info, 0) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                let id = DirectoryID(info)
                if !walk.onPath.contains(id) { subdirectories.append((name, id)) }
            } else if (info.st_mode & S_IFMT) == S_IFREG {
                let relative = prefix.isEmpty ? name : prefix + "/" + name
                let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
                walk.listing.files.append(ScannedFile(path: relative, size: Int64(info.st_size), modified: modified))
            }
        }
        closedir(handle)
        guard walk.listing.stop == nil else { return }
        if !subdirectories.isEmpty && depth >= walk.limits.maxDepth {
            walk.listing.stop = .maxDepth(walk.limits.maxDepth)
            return
        }
        for (name, id) in subdirectories {
            walk.onPath.insert(id)
            self.walk(directory.hasSuffix("/") ? directory + name : directory + "/" + name, prefix: prefix.isEmpty ? name : prefix + "/" + name, depth: depth + 1, &walk)
            walk.onPath.remove(id)
            if walk.listing.stop != nil { return }
        }
    }
}
