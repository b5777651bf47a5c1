#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A filesystem mounted for one test, to make storage faults real: a small
/// tmpfs that fills up, or a directory bound read-only over itself.
///
/// Mounting needs CAP_SYS_ADMIN (root on Linux, as this machine and CI run
/// the tests); ``unavailableReason`` says why a test cannot run otherwise.
/// Unmounted by ``unmount()`` or on deinit, lazily when something still holds
/// a file open there, so no mount outlives its test.
public final class ScratchMount: Sendable {
    /// Where it is mounted.
    public let path: String
    /// Owns the mount point of a tmpfs made in a fresh directory.
    private let mountPoint: TemporaryDirectory?
    private let mounted = Mutex<Bool>(true)

    /// Nil when this process can mount (a 4 KiB tmpfs was mounted and
    /// unmounted once), otherwise why not.
    public static let unavailableReason: String? = {
        #if os(Linux)
        guard let probe = try? TemporaryDirectory(prefix: "mount-probe") else { return "cannot make a mount point" }
        guard mount("tmpfs", probe.path, "tmpfs", 0, "size=4k") == 0 else {
            return "mount -t tmpfs is not permitted here (\(String(cString: strerror(errno)))); storage-fault tests need root"
        }
        umount2(probe.path, 0)
        return nil
        #else
        return "storage-fault tests mount filesystems, which they do on Linux only"
        #endif
    }()

    /// A tmpfs of `bytes` (the kernel rounds up to pages) on a fresh
    /// temporary directory, or on `directory` when given (created if missing).
    public init(tmpfsBytes bytes: Int, at directory: String? = nil) throws {
        let owned = directory == nil ? try TemporaryDirectory(prefix: "tmpfs") : nil
        let target = directory ?? owned?.path ?? ""
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try Self.call("mount -t tmpfs -o size=\(bytes) at \(target)") {
            mount("tmpfs", target, "tmpfs", 0, "size=\(bytes)")
        }
        mountPoint = owned
        path = target
    }

    /// `directory` bound over itself and made read-only: creating or opening
    /// a file there for writing fails with EROFS, for root too, whom
    /// permission bits do not stop. Files opened for writing before the bind
    /// keep working: they belong to the mount underneath.
    public init(readOnlyBindOf directory: String) throws {
        try Self.call("mount --bind \(directory) \(directory)") {
            mount(directory, directory, nil, UInt(MS_BIND), nil)
        }
        do {
            try Self.call("mount -o remount,bind,ro \(directory)") {
                mount(directory, directory, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY), nil)
            }
        } catch {
            umount2(directory, Int32(MNT_DETACH))
            throw error
        }
        mountPoint = nil
        path = directory
    }

    /// Unmounts, detaching lazily when files are still open there. Idempotent.
    public func unmount() {
        let wasMounted = mounted.withLock { mounted in
            defer { mounted = false }
            return mounted
        }
        guard wasMounted else { return }
        if umount2(path, 0) != 0 { umount2(path, Int32(MNT_DETACH)) }
    }

    deinit { unmount() }

    /// Writes zeros to `name` in the mount until the filesystem is full, so
    /// the next write that needs a new block fails with ENOSPC. Returns the
    /// bytes written; removing the file frees them.
    @discardableResult
    public func fill(_ name: String = "filler") throws -> Int {
        let file = path + "/" + name
        let descriptor = open(file, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard descriptor >= 0 else { throw TestFailure("cannot create \(file): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let block = [UInt8](repeating: 0, count: 4096)
        var written = 0
        // Bounded: a tmpfs made for a test holds a few MiB at most.
        for _ in 0..<(1 << 20) {
            let count = block.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            written += count
        }
        // Partial pages: fill the last bytes one at a time.
        for _ in 0..<4096 {
            let count = block.withUnsafeBytes { write(descriptor, $0.baseAddress, 1) }
            if count <= 0 { break }
            written += count
        }
        return written
    }

    private static func call(_ what: String, _ body: () -> Int32) throws {
        guard body() == 0 else {
            throw TestFailure("\(what) failed: \(String(cString: strerror(errno)))")
        }
    }
}
