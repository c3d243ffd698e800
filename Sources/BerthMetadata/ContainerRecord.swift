import Foundation
import GRDB

/// A container as berthd keeps it. Its state (created, running, exited, exit code) is
/// not here: the container's shim and the exit file it writes are the truth, so a berthd
/// that was down while a container exited still reports it right.
public struct ContainerRecord: Sendable, Equatable {
    public var id: String
    public var podSandboxID: String
    public var name: String
    public var attempt: Int
    /// The image as the request named it, and the image id it resolved to.
    public var image: String
    public var imageID: String
    /// Nanoseconds since the epoch; `startedAt` is 0 until StartContainer.
    public var createdAt: Int64
    public var startedAt: Int64
    /// The CRI log file ("" when the pod has no log directory).
    public var logPath: String
    public var runtimeHandler: String
    /// The CRI ContainerConfig, serialized protobuf (resources updated in place).
    public var config: [UInt8]
    /// Its image's layer snapshots, bottom first, then its own writable snapshot.
    public var snapshots: [String]

    public init(
        id: String, podSandboxID: String, name: String, attempt: Int, image: String, imageID: String, createdAt: Int64, startedAt: Int64 = 0,
        logPath: String, runtimeHandler: String, config: [UInt8], snapshots: [String]
    ) {
        self.id = id
        self.podSandboxID = podSandboxID
        self.name = name
        self.attempt = attempt
        self.image = image
        self.imageID = imageID
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.logPath = logPath
        self.runtimeHandler = runtimeHandler
        self.config = config
        self.snapshots = snapshots
    }
}

extension MetadataStore {
    /// Records a new container (or, for an existing id, its start time and config).
    public func save(_ container: ContainerRecord) throws(MetadataError) {
        do {
            try database.write { database in
                try database.execute(
                    sql: """
                        INSERT INTO container (id, podSandboxID, name, attempt, image, imageID, createdAt, startedAt, logPath, runtimeHandler, config)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET startedAt = excluded.startedAt, config = excluded.config
                        """,
                    arguments: [
                        container.id, container.podSandboxID, container.name, container.attempt, container.image, container.imageID, container.createdAt,
                        container.startedAt, container.logPath, container.runtimeHandler, Data(container.config),
                    ])
                for (position, snapshot) in container.snapshots.enumerated() {
                    try database.execute(
                        sql: "INSERT OR IGNORE INTO containerSnapshot (containerID, snapshotID, position) VALUES (?, ?, ?)", arguments: [container.id, snapshot, position])
                }
            }
        } catch {
            throw MetadataError("save container \(container.id): \(error)")
        }
    }

    /// Records a container's start time and config; false when its row is gone (removed
    /// meanwhile: an update must not bring it back).
    public func update(_ container: ContainerRecord) throws(MetadataError) -> Bool {
        do {
            return try database.write { database in
                try database.execute(
                    sql: "UPDATE container SET startedAt = ?, config = ? WHERE id = ?", arguments: [container.startedAt, Data(container.config), container.id])
                return database.changesCount > 0
            }
        } catch {
            throw MetadataError("update container \(container.id): \(error)")
        }
    }

    /// Every container, oldest first; with `idPrefix`, those whose id starts with it (the
    /// lookup of one container by the id or prefix a CRI call names, without reading all).
    public func containers(idPrefix: String? = nil) throws(MetadataError) -> [ContainerRecord] {
        do {
            return try database.read { database in
                let rows =
                    if let idPrefix {
                        try Row.fetchAll(
                            database, sql: "SELECT * FROM container WHERE substr(id, 1, length(?1)) = ?1 ORDER BY createdAt", arguments: [idPrefix])
                    } else {
                        try Row.fetchAll(database, sql: "SELECT * FROM container ORDER BY createdAt")
                    }
                return try rows.map { row in
                    let id: String = row["id"]
                    return ContainerRecord(
                        id: id, podSandboxID: row["podSandboxID"], name: row["name"], attempt: row["attempt"], image: row["image"], imageID: row["imageID"],
                        createdAt: row["createdAt"], startedAt: row["startedAt"], logPath: row["logPath"], runtimeHandler: row["runtimeHandler"],
                        config: [UInt8](row["config"] as Data),
                        snapshots: try String.fetchAll(database, sql: "SELECT snapshotID FROM containerSnapshot WHERE containerID = ? ORDER BY position", arguments: [id]))
                }
            }
        } catch {
            throw MetadataError("list containers: \(error)")
        }
    }

    /// Removes a container's row; returns the snapshots it held that no image and no other
    /// container holds (for the caller to delete after the row is gone).
    public func deleteContainer(_ id: String) throws(MetadataError) -> [String] {
        do {
            return try database.write { database in
                let snapshots = try String.fetchAll(database, sql: "SELECT snapshotID FROM containerSnapshot WHERE containerID = ?", arguments: [id])
                try database.execute(sql: "DELETE FROM container WHERE id = ?", arguments: [id])
                return try snapshots.filter {
                    try Int.fetchOne(
                        database, sql: "SELECT (SELECT COUNT(*) FROM imageSnapshot WHERE snapshotID = ?1) + (SELECT COUNT(*) FROM containerSnapshot WHERE snapshotID = ?1)",
                        arguments: [$0]) == 0
                }
            }
        } catch {
            throw MetadataError("delete container \(id): \(error)")
        }
    }
}
