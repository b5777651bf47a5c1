import JSONCore

/// The webhook body, written with JSONCore's writer (no Foundation).
extension AlertNotification {
    /// The payload's members in the order §8 shows them.
    public var fields: [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [
            ("alert", .string(self.alert)),
            ("severity", .string(self.severity.rawValue)),
            ("status", .string(self.status.rawValue)),
            ("environment", .string(self.environment)),
        ]
        if let value = self.value { fields.append(("value", .double(value))) }
        if let threshold = self.threshold { fields.append(("threshold", .double(threshold))) }
        fields.append(("message", .string(self.message)))
        fields.append(("at", .string(self.timestamp)))
        if !self.details.isEmpty { fields.append(("details", .object(self.details))) }
        return fields
    }

    /// The payload as UTF-8 JSON bytes, ready to POST.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        writer.write(.object(self.fields))
        return writer.bytes
    }

    /// The payload as a JSON string.
    public var json: String { String(decoding: self.jsonBytes, as: UTF8.self) }
}
