/// Documents shaped like what registries return, with made-up but well-formed digests.
enum Fixtures {
    static let indexHex = "1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6"
    static let amd64Hex = "5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51"
    static let arm64Hex = "f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265"
    static let armV7Hex = "5ba6c8710dd1369ce61603ab9b7a81b25f92d4a9f74956ab72a7ea75884f07ee"
    static let armV6Hex = "50b8c3e55c3365d624e7e10ae6a783d525e02b16924d4dcff0611f3e2544efaf"
    static let configHex = "b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910"
    static let layer1Hex = "77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
    static let layer2Hex = "95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
    static let diff1Hex = "0697c0f434f8672811eb1b52d443d0d4cb616fa58e4d10b25e91471b7f45a665"
    static let diff2Hex = "a9485d17c39b521f9de31b558df98f81dd72a9c7498f57f27b74356ea150fbd9"
    static let attestationHex = "bcc7930764b9b7a8b9bbd0161b568e869466d0c4efaee8006a56f3e8e6d82b69"
    static let ppcHex = "6ff39ad64fc78addfe205e809111bee54caf0f35447e077658ed3c9b7025c3af"
    static let sha512Hex =
        "a4abd4448c49562d828115d13a1fccea927f52b4d5459297f8b43e42da89238bc13626e43dcb38ddb082488927ec904fb42057443983e88585179d50551afe62"

    /// An OCI image manifest with two gzip layers and annotations.
    static let ociManifest = """
        {
          "schemaVersion": 2,
          "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:\(configHex)",
            "size": 1472
          },
          "layers": [
            {
              "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
              "digest": "sha256:\(layer1Hex)",
              "size": 3623807
            },
            {
              "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
              "digest": "sha256:\(layer2Hex)",
              "size": 32,
              "annotations": {"org.opencontainers.image.title": "app.tar.zst"}
            }
          ],
          "annotations": {
            "org.opencontainers.image.created": "2024-05-01T10:00:00Z",
            "org.opencontainers.image.base.name": "docker.io/library/alpine:3.20"
          }
        }
        """

    /// An OCI index as BuildKit pushes it: three platforms and an attestation manifest.
    static let ociIndex = """
        {
          "schemaVersion": 2,
          "mediaType": "application/vnd.oci.image.index.v1+json",
          "manifests": [
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:\(amd64Hex)",
              "size": 1014,
              "platform": {"architecture": "amd64", "os": "linux"}
            },
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:\(arm64Hex)",
              "size": 1014,
              "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}
            },
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:\(armV7Hex)",
              "size": 1014,
              "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}
            },
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:\(attestationHex)",
              "size": 839,
              "annotations": {
                "vnd.docker.reference.digest": "sha256:\(amd64Hex)",
                "vnd.docker.reference.type": "attestation-manifest"
              },
              "platform": {"architecture": "unknown", "os": "unknown"}
            }
          ],
          "annotations": {"org.opencontainers.image.ref.name": "1.0"}
        }
        """

    /// A Docker manifest list as Docker Hub serves for an official image (no mediaType
    /// sniffing needed: it states its type).
    static let dockerManifestList = """
        {
          "manifests": [
            {
              "digest": "sha256:\(amd64Hex)",
              "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "platform": {"architecture": "amd64", "os": "linux"},
              "size": 528
            },
            {
              "digest": "sha256:\(armV6Hex)",
              "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "platform": {"architecture": "arm", "os": "linux", "variant": "v6"},
              "size": 528
            },
            {
              "digest": "sha256:\(ppcHex)",
              "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "platform": {"architecture": "ppc64le", "os": "linux"},
              "size": 528
            },
            {
              "digest": "sha256:\(layer1Hex)",
              "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "platform": {
                "architecture": "amd64",
                "os": "windows",
                "os.version": "10.0.20348.2527",
                "os.features": ["win32k"]
              },
              "size": 1125
            }
          ],
          "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
          "schemaVersion": 2
        }
        """

    /// A Docker schema 2 image manifest.
    static let dockerManifest = """
        {
          "schemaVersion": 2,
          "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
          "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1457,
            "digest": "sha256:\(configHex)"
          },
          "layers": [
            {
              "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
              "size": 2152262,
              "digest": "sha256:\(layer1Hex)"
            }
          ]
        }
        """

    /// An image config in Docker's form: nulls, unknown members, sets as objects.
    static let imageConfig = """
        {
          "architecture": "arm",
          "variant": "v7",
          "os": "linux",
          "author": "Berth Tests <tests@example.com>",
          "created": "2024-05-01T10:00:00.123456789Z",
          "docker_version": "26.1.0",
          "config": {
            "Hostname": "",
            "User": "app:app",
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_MODE=production"],
            "Entrypoint": ["/docker-entrypoint.sh"],
            "Cmd": ["nginx", "-g", "daemon off;"],
            "WorkingDir": "/srv",
            "Labels": {"maintainer": "tests@example.com", "org.opencontainers.image.version": "1.27"},
            "ExposedPorts": {"80/tcp": {}, "443/tcp": {}, "443/udp": {}},
            "Volumes": {"/var/cache/app": {}},
            "StopSignal": "SIGQUIT",
            "OnBuild": null,
            "Healthcheck": {"Test": ["CMD", "true"]}
          },
          "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) CMD"]},
          "rootfs": {
            "type": "layers",
            "diff_ids": ["sha256:\(diff1Hex)", "sha256:\(diff2Hex)"]
          },
          "history": [
            {"created": "2024-04-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
            {"created": "2024-05-01T10:00:00Z", "created_by": "ENV APP_MODE=production", "empty_layer": true, "comment": "buildkit.dockerfile.v0"}
          ]
        }
        """

    /// The minimal config of a `FROM scratch` image with nothing set.
    static let minimalConfig = """
        {"architecture":"amd64","os":"linux","config":{"Env":null,"Cmd":null,"Volumes":null},"rootfs":{"type":"layers","diff_ids":[]}}
        """

    /// A signed Docker schema 1 manifest, abridged.
    static let schema1Signed = """
        {
          "schemaVersion": 1,
          "name": "library/hello-world",
          "tag": "latest",
          "architecture": "amd64",
          "fsLayers": [{"blobSum": "sha256:\(layer1Hex)"}],
          "history": [{"v1Compatibility": "{}"}],
          "signatures": [{"header": {"alg": "ES256"}, "signature": "abc", "protected": "def"}]
        }
        """
}

extension String {
    /// The UTF-8 bytes, as a fetched document arrives.
    var bytes: [UInt8] { Array(utf8) }
}
