import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the cluster's PEM files live, and how they are written.
extension ClusterCertificates {
    /// `<directory>/ca.pem`: the cluster CA certificate, every node's only trust root.
    public static func caCertificatePath(directory: String) -> String {
        Self.join(directory, "ca.pem")
    }

    /// `<directory>/ca-key.pem`: the CA's private key (mode 0600).
    public static func caKeyPath(directory: String) -> String {
        Self.join(directory, "ca-key.pem")
    }

    /// `<directory>/<node>.pem`: a node's leaf certificate.
    public static func certificatePath(directory: String, node: String) -> String {
        Self.join(directory, "\(node).pem")
    }

    /// `<directory>/<node>-key.pem`: a node's private key (mode 0600).
    public static func keyPath(directory: String, node: String) -> String {
        Self.join(directory, "\(node)-key.pem")
    }

    static func join(_ directory: String, _ file: String) -> String {
        directory.hasSuffix("/") ? directory + file : directory + "/" + file
    }

    static func fileExists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    static func createDirectory(_ directory: String) throws(CertificateError) {
        do {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw CertificateError(code: .io, message: "cannot create certs directory \(directory): \(error)")
        }
    }

    static func readText(_ path: String) throws(CertificateError) -> String {
        guard Self.fileExists(path) else {
            throw CertificateError(code: .fileMissing, message: "\(path) does not exist (run `ratelimit certs init`)")
        }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CertificateError(code: .io, message: "cannot read \(path): \(error)")
        }
    }

    /// Writes `text` to a new file created with `mode`, replacing an existing file.
    ///
    /// The file is created with `open(O_CREAT | O_EXCL, mode)` after unlinking any old
    /// one, so a private key is never readable by others, not even for an instant
    /// between a create and a later chmod.
    static func writeFile(_ path: String, _ text: String, mode: mode_t) throws(CertificateError) {
        if unlink(path) != 0 && errno != ENOENT {
            throw CertificateError(code: .io, message: "cannot replace \(path): \(String(cString: strerror(errno)))")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else {
            throw CertificateError(code: .io, message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        // The umask may have narrowed `mode`; set it exactly.
        _ = fchmod(fd, mode)
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw CertificateError(code: .io, message: "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Refuses to go on when any of `paths` exists, naming the first one.
    static func refuseOverwrite(_ paths: [String]) throws(CertificateError) {
        if let existing = paths.first(where: Self.fileExists) {
            throw CertificateError(
                code: .fileExists,
                message: "\(existing) already exists; pass --force to overwrite it"
            )
        }
    }
}
