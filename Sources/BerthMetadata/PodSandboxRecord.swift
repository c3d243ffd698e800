import Foundation
import GRDB

/// A pod as berthd keeps it: written before its pause container starts and updated as it
/// changes, so a berthd that restarts finds every pod again.
public struct PodSandboxRecord: Sendable, Equatable {
    public enum State: String, Sendable {
        case ready = "SANDBOX_READY"
        case notReady = "SANDBOX_NOTREADY"
    }

    public var id: String
    public var name: String
    public var namespace: String
    public var uid: String
    public var attempt: Int
    public var state: State
    /// Nanoseconds since the epoch.
    public var createdAt: Int64
    /// The pinned network namespace ("" for the host's).
    public var networkNamespace: String
    public var ip: String
    public var runtimeHandler: String
    /// The CRI PodSandboxConfig, serialized protobuf.
    public var config: [UInt8]

    public init(
        id: String, name: String, namespace: String, uid: String, attempt: Int, state: State, createdAt: Int64, networkNamespace: String,
        ip: String, runtimeHandler: String, config: [UInt8]
    ) {
        self.id = id
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.attempt = attempt
        self.state = state
        self.createdAt = createdAt
        self.networkNamespace = networkNamespace
        self.ip = ip
        self.runtimeHandler = runtimeHandler
        self.config = config
    }
}

extension MetadataStore {
    public func save(_ pod: PodSandboxRecord) throws(MetadataError) {
        do {
            try database.write { database in
                try database.execute(
                    sql: """
                        INSERT INTO podSandbox (id, name, namespace, uid, attempt, state, createdAt, networkNamespace, ip, runtimeHandler, config)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET state = excluded.state, ip = excluded.ip, networkNamespace = excluded.networkNamespace
                        """,
                    arguments: [pod.id, pod.name, pod.namespace, pod.uid, pod.attempt, pod.state.rawValue, pod.createdAt, pod.networkNamespace, pod.ip, pod.runtimeHandler, Data(pod.config)])
            }
        } catch {
            throw MetadataError("save pod \(pod.id): \(error)")
        }
    }

    public func pods() throws(MetadataError) -> [PodSandboxRecord] {
        do {
            return try database.read { database in
                try Row.fetchAll(database, sql: "SELECT * FROM podSandbox ORDER BY createdAt").map { row in
                    PodSandboxRecord(
                        id: row["id"], name: row["name"], namespace: row["namespace"], uid: row["uid"], attempt: row["attempt"],
                        state: PodSandboxRecord.State(rawValue: row["state"]) ?? .notReady, createdAt: row["createdAt"],
                        networkNamespace: row["networkNamespace"], ip: row["ip"], runtimeHandler: row["runtimeHandler"], config: [UInt8](row["config"] as Data))
                }
            }
        } catch {
            throw MetadataError("list pods: \(error)")
        }
    }

    public func deletePod(_ id: String) throws(MetadataError) {
        do {
            try database.write { database in try database.execute(sql: "DELETE FROM podSandbox WHERE id = ?", arguments: [id]) }
        } catch {
            throw MetadataError("delete pod \(id): \(error)")
        }
    }
}
