import BerthSnapshots
import BerthSystem
import Glibc

/// Makes a snapshot visible where a bundle's `rootfs` is: the snapshotter only says how
/// (an overlay, or a bind for a single layer), berthd mounts it in the host's mount
/// namespace before the runtime's `create`, and unmounts it when the container goes.
enum RootfsMount {
    static func mount(_ mounts: [OverlaySnapshotter.Mount], at target: String) throws(SystemError) {
        for mount in mounts {
            let bind = mount.type == "bind"
            try Mount.mount(
                source: mount.source, target: target, type: bind ? nil : mount.type, flags: bind ? UInt(MS_BIND | MS_REC) : 0,
                data: bind ? nil : mount.options.joined(separator: ","), display: target)
        }
    }
}
