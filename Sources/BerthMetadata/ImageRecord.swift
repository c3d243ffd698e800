import Foundation
import GRDB

/// One image: its id (the config digest), what it is made of, and its names.
public struct ImageRecord: Sendable, Equatable {
    public var id: String
    public var manifestDigest: String
    public var size: Int64
    public var configJSON: [UInt8]
    public var pinned: Bool
    public var created: Double
    /// Tags ("docker.io/library/busybox:latest") and digests ("docker.io/library/busybox@sha256:…").
    public var names: [String]
    /// Every blob the image holds (manifests, index, config, layers).
    public var blobs: [String]
    /// The snapshots of its layers.
    public var snapshots: [String]

    public init(id: String, manifestDigest: String, size: Int64, configJSON: [UInt8], pinned: Bool = false, created: Double, names: [String], blobs: [String], snapshots: [String]) {
        self.id = id
        self.manifestDigest = manifestDigest
        self.size = size
        self.configJSON = configJSON
        self.pinned = pinned
        self.created = created
        self.names = names
        self.blobs = blobs
        self.snapshots = snapshots
    }
}

extension MetadataStore {
    /// Records an image, or adds names and parts to the one with this id. A name that
    /// pointed at another image moves to this one (a re-pulled tag).
    public func save(_ image: ImageRecord) throws(MetadataError) {
        do {
            try database.write { database in
                try database.execute(
                    sql: """
                        INSERT INTO image (id, manifestDigest, size, configJSON, pinned, created) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET manifestDigest = excluded.manifestDigest, size = excluded.size, pinned = image.pinned OR excluded.pinned
                        """,
                    arguments: [image.id, image.manifestDigest, image.size, Data(image.configJSON), image.pinned, image.created])
                for name in image.names {
                    try database.execute(
                        sql: "INSERT INTO imageName (name, imageID, isDigest) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET imageID = excluded.imageID",
                        arguments: [name, image.id, name.contains("@")])
                }
                for blob in image.blobs {
                    try database.execute(sql: "INSERT OR IGNORE INTO imageBlob (imageID, digest) VALUES (?, ?)", arguments: [image.id, blob])
                }
                for snapshot in image.snapshots {
                    try database.execute(sql: "INSERT OR IGNORE INTO imageSnapshot (imageID, snapshotID) VALUES (?, ?)", arguments: [image.id, snapshot])
                }
            }
        } catch {
            throw MetadataError("save image \(image.id): \(error)")
        }
    }

    /// Every image, names sorted, oldest first.
    public func images() throws(MetadataError) -> [ImageRecord] {
        do {
            return try database.read { database in
                try Row.fetchAll(database, sql: "SELECT * FROM image ORDER BY created, id").map { row in try Self.record(row, database) }
            }
        } catch {
            throw MetadataError("list images: \(error)")
        }
    }

    /// The image an id, a name or a digest name refers to.
    public func image(named reference: String) throws(MetadataError) -> ImageRecord? {
        do {
            return try database.read { database in
                let row = try Row.fetchOne(database, sql: "SELECT * FROM image WHERE id = ?", arguments: [reference])
                    ?? Row.fetchOne(database, sql: "SELECT image.* FROM image JOIN imageName ON imageName.imageID = image.id WHERE imageName.name = ?", arguments: [reference])
                return try row.map { try Self.record($0, database) }
            }
        } catch {
            throw MetadataError("find image \(reference): \(error)")
        }
    }

    /// Removes an image with its names; returns the blobs and snapshots that no other image
    /// holds any more (for the caller to delete: the rows go first, so a crash between the
    /// two leaves only unreferenced files, which garbage collection removes later).
    public func remove(imageID: String) throws(MetadataError) -> (blobs: [String], snapshots: [String]) {
        do {
            return try database.write { database in
                let blobs = try String.fetchAll(database, sql: "SELECT digest FROM imageBlob WHERE imageID = ?", arguments: [imageID])
                let snapshots = try String.fetchAll(database, sql: "SELECT snapshotID FROM imageSnapshot WHERE imageID = ?", arguments: [imageID])
                try database.execute(sql: "DELETE FROM image WHERE id = ?", arguments: [imageID])
                let freeBlobs = try blobs.filter { try Int.fetchOne(database, sql: "SELECT COUNT(*) FROM imageBlob WHERE digest = ?", arguments: [$0]) == 0 }
                // A layer a container still stands on stays until that container goes.
                let freeSnapshots = try snapshots.filter {
                    try Int.fetchOne(
                        database, sql: "SELECT (SELECT COUNT(*) FROM imageSnapshot WHERE snapshotID = ?1) + (SELECT COUNT(*) FROM containerSnapshot WHERE snapshotID = ?1)",
                        arguments: [$0]) == 0
                }
                return (freeBlobs, freeSnapshots)
            }
        } catch {
            throw MetadataError("remove image \(imageID): \(error)")
        }
    }

    /// Every blob and snapshot some image or container holds (garbage collection keeps
    /// exactly these).
    public func referenced() throws(MetadataError) -> (blobs: Set<String>, snapshots: Set<String>) {
        do {
            return try database.read { database in
                (Set(try String.fetchAll(database, sql: "SELECT DISTINCT digest FROM imageBlob")),
                 Set(try String.fetchAll(database, sql: "SELECT snapshotID FROM imageSnapshot UNION SELECT snapshotID FROM containerSnapshot")))
            }
        } catch {
            throw MetadataError("list referenced content: \(error)")
        }
    }

    static func record(_ row: Row, _ database: Database) throws -> ImageRecord {
        let id: String = row["id"]
        return ImageRecord(
            id: id, manifestDigest: row["manifestDigest"], size: row["size"], configJSON: [UInt8](row["configJSON"] as Data),
            pinned: row["pinned"], created: row["created"],
            names: try String.fetchAll(database, sql: "SELECT name FROM imageName WHERE imageID = ? ORDER BY name", arguments: [id]),
            blobs: try String.fetchAll(database, sql: "SELECT digest FROM imageBlob WHERE imageID = ? ORDER BY digest", arguments: [id]),
            snapshots: try String.fetchAll(database, sql: "SELECT snapshotID FROM imageSnapshot WHERE imageID = ? ORDER BY snapshotID", arguments: [id]))
    }
}
