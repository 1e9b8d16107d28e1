import Foundation
import Testing
@testable import SluiceCore

/// The folder scanner's walk ends on any tree (issue 21): a symlink back to an ancestor is not
/// followed, a pass is bounded in entries and depth, and a stop ends it mid-walk.
@Suite struct FileWalkerLimitsTests {
    /// A fresh temporary directory, removed when the test ends.
    final class Tree {
        let root: String
        init() {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-walk-\(UUID().uuidString)").path
            try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        func file(_ relative: String) {
            let path = root + "/" + relative
            try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
        }

        func link(_ relative: String, to destination: String) {
            try! FileManager.default.createSymbolicLink(atPath: root + "/" + relative, withDestinationPath: destination)
        }
    }

    @Test func aLinkToItsOwnDirectoryIsNotFollowed() {
        let tree = Tree()
        tree.file("one.csv")
        tree.file("sub/two.csv")
        tree.link("a", to: ".")
        tree.link("sub/up", to: "..")
        tree.link("sub/b", to: ".")
        let listing = FileWalker.list(tree.root)
        #expect(Set(listing.files.map(\.path)) == ["one.csv", "sub/two.csv"])
        #expect(listing.files.count == 2)
        #expect(listing.stop == nil)
    }

    @Test func aLinkToADirectoryOutsideThePathIsStillFollowed() {
        let tree = Tree()
        tree.file("data/x.csv")
        tree.link("alias", to: "data")
        let listing = FileWalker.list(tree.root)
        #expect(Set(listing.files.map(\.path)) == ["data/x.csv", "alias/x.csv"])
    }

    @Test func aPassStopsAtItsEntryBound() {
        let tree = Tree()
        for index in 0..<50 { tree.file("f\(index).csv") }
        let listing = FileWalker.list(tree.root, limits: FileWalker.Limits(maxEntries: 10, maxDepth: 8))
        #expect(listing.stop == .maxEntries(10))
        #expect(listing.files.count <= 10)
        #expect(listing.stop?.description.contains("10") == true)
    }

    @Test func aPassStopsAtItsDepthBound() {
        let tree = Tree()
        tree.file("1/2/3/4/5/deep.csv")
        tree.file("top.csv")
        let listing = FileWalker.list(tree.root, limits: FileWalker.Limits(maxEntries: 1000, maxDepth: 3))
        #expect(listing.stop == .maxDepth(3))
        #expect(!listing.files.contains { $0.path.hasSuffix("deep.csv") })
    }

    /// Unreadable directories are reported, the first few by name and the rest counted: a tree
    /// like `/proc` has hundreds, and the scanner logs a pass's errors every interval.
    @Test func manyUnreadableDirectoriesAreCounted() {
        var listing = FileWalker.Listing()
        for index in 0..<12 { listing.unreadable("/tree/locked\(index)", EACCES) }
        listing.summarise()
        #expect(listing.errors.count == FileWalker.Listing.maxErrors + 1)
        #expect(listing.errors.first == "/tree/locked0: Permission denied")
        #expect(listing.errors.last == "and 7 more directories could not be read")
    }

    /// Even exponential fan-out (two links back at every level, 2^40 paths before the kernel
    /// stops resolving) ends: the links are loops and skipped.
    @Test func twoLoopsPerDirectoryEnd() {
        let tree = Tree()
        tree.file("d/f.csv")
        tree.link("d/a", to: ".")
        tree.link("d/b", to: "..")
        tree.link("c", to: "d")
        let listing = FileWalker.list(tree.root)
        #expect(Set(listing.files.map(\.path)) == ["d/f.csv", "c/f.csv"])
    }

    /// The walk checks its stop flag as it goes: set after 100 entries, it ends there instead of
    /// listing all 2,000 files (counted, not timed).
    @Test func aStopEndsTheWalkPart() {
        let tree = Tree()
        for directory in 0..<20 { for index in 0..<100 { tree.file("d\(directory)/f\(index).csv") } }
        let checks = Counter()
        let listing = FileWalker.list(tree.root, isCancelled: { checks.increment() > 100 })
        #expect(listing.stop == .cancelled)
        #expect(listing.files.count <= 101)
        #expect(FileWalker.list(tree.root).files.count == 2000)
    }

    /// A scanner pass over a walk cut short starts nothing (a partial listing could start a group
    /// without all its files) and reports the bound.
    @Test func aCutPassStartsNothingAndSaysWhy() throws {
        let tree = Tree()
        for index in 0..<30 { tree.file("in/f\(index).csv") }
        let database = TestDatabase()
        let store = try database.store()
        let yaml = """
            trigger: cut
            workflow: noop
            source: { directory: \(tree.root)/in }
            match: '^f(?<n>[0-9]+)\\.csv$'
            group_by: [n]
            """
        let trigger = try TriggerDefinition.parse(Document.parse(yaml, file: "cut.yaml", yaml: true), file: "cut.yaml", baseDirectory: "/")
        let report = TriggerScanner.pass(trigger, store: store, limits: FileWalker.Limits(maxEntries: 5, maxDepth: 8))
        #expect(report.started.isEmpty)
        #expect(report.errors.contains { $0.contains("5 entries") })
        let full = TriggerScanner.pass(trigger, store: store)
        #expect(full.started.count == 30)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }
}
