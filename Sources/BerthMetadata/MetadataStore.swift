import GRDB

/// berthd's metadata in SQLite (GRDB, WAL): images, the names that point at them, and the
/// blobs and snapshots each image holds, so that removing an image frees exactly what
/// nothing else references. Every change is one transaction: a crash leaves the last
/// committed state, never half an image.
public final class MetadataStore: Sendable {
    let database: DatabasePool

    /// Opens (creating and migrating) `<directory>/metadata.db`.
    public init(directory: String) throws(MetadataError) {
        do {
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            database = try DatabasePool(path: "\(directory)/metadata.db", configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw MetadataError("open metadata database in \(directory): \(error)")
        }
    }

    /// The schema, one migration per version; never edit a shipped one, add the next.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: images, names, blobs, snapshots") { database in
            try database.create(table: "image") { table in
                table.primaryKey("id", .text)  // the config digest, as the CRI image id
                table.column("manifestDigest", .text).notNull()
                table.column("size", .integer).notNull()
                table.column("configJSON", .blob).notNull()
                table.column("pinned", .boolean).notNull().defaults(to: false)
                table.column("created", .double).notNull()
            }
            try database.create(table: "imageName") { table in
                table.primaryKey("name", .text)  // docker.io/library/busybox:latest or repo@sha256:…
                table.column("imageID", .text).notNull().indexed().references("image", onDelete: .cascade)
                table.column("isDigest", .boolean).notNull()
            }
            try database.create(table: "imageBlob") { table in
                table.column("imageID", .text).notNull().references("image", onDelete: .cascade)
                table.column("digest", .text).notNull().indexed()
                table.primaryKey(["imageID", "digest"])
            }
            try database.create(table: "imageSnapshot") { table in
                table.column("imageID", .text).notNull().references("image", onDelete: .cascade)
                table.column("snapshotID", .text).notNull().indexed()
                table.primaryKey(["imageID", "snapshotID"])
            }
        }
        migrator.registerMigration("v2: pod sandboxes") { database in
            try database.create(table: "podSandbox") { table in
                table.primaryKey("id", .text)
                table.column("name", .text).notNull()
                table.column("namespace", .text).notNull()
                table.column("uid", .text).notNull()
                table.column("attempt", .integer).notNull()
                table.column("state", .text).notNull()
                table.column("createdAt", .integer).notNull()
                table.column("networkNamespace", .text).notNull()
                table.column("ip", .text).notNull()
                table.column("runtimeHandler", .text).notNull()
                table.column("config", .blob).notNull()  // the CRI PodSandboxConfig, protobuf
            }
        }
        migrator.registerMigration("v3: containers") { database in
            try database.create(table: "container") { table in
                table.primaryKey("id", .text)
                table.column("podSandboxID", .text).notNull().indexed()
                table.column("name", .text).notNull()
                table.column("attempt", .integer).notNull()
                table.column("image", .text).notNull()  // the name the request gave
                table.column("imageID", .text).notNull()
                table.column("createdAt", .integer).notNull()
                table.column("startedAt", .integer).notNull()
                table.column("logPath", .text).notNull()
                table.column("runtimeHandler", .text).notNull()
                table.column("config", .blob).notNull()  // the CRI ContainerConfig, protobuf
            }
            // The snapshots a container stands on (its image's layers, nearest last) and
            // its own writable one: garbage collection and image removal keep these.
            try database.create(table: "containerSnapshot") { table in
                table.column("containerID", .text).notNull().references("container", onDelete: .cascade)
                table.column("snapshotID", .text).notNull().indexed()
                table.column("position", .integer).notNull()
                table.primaryKey(["containerID", "snapshotID"])
            }
        }
        return migrator
    }
}

/// A metadata failure, naming what was being done.
public struct MetadataError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
