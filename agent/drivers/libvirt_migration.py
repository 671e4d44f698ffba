"""Live migration with libvirt: what the agent asks of ``virDomainMigrateToURI3``, and watching it run.

Peer to peer: the source's libvirtd opens ``qemu+tls://<destination>:<gateway
port>/system`` itself, with this host's client certificate (``pkipath``: the
agent's pki directory, agent.pki) and checking the destination's certificate
against the controller's CA and the destination's address. The destination's
end is its agent's migration gateway (agent.migration_gateway), never a
libvirtd TCP listener: it admits only the source its controller-signed task
named, and hands the connection to libvirtd as a local user whose libvirt access
policy allows migration and nothing else.

Flags: LIVE | PEER2PEER | PERSIST_DEST | UNDEFINE_SOURCE | NON_SHARED_INC | TLS.
The disks are copied incrementally (only the instance's overlay: the destination
created its own overlay on its cached copy of the same base image) and the
memory and disk streams run over QEMU's TLS (``migrate_tls_x509_cert_dir`` =
the pki directory's ``qemu`` layout), verified against ``tls.destination``, the
destination's host name. The domain is persisted there from the XML built for
the destination's paths, and undefined here once it runs there.

Progress comes from the job's statistics; when the task's deadline comes near,
the job is aborted, which leaves the guest running here, as it was.
"""

import threading
import time
from urllib.parse import quote

import libvirt

from .. import protocol
from ..errors import AgentError
from . import domain_xml

FLAGS = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PEER2PEER
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    | libvirt.VIR_MIGRATE_NON_SHARED_INC
    | libvirt.VIR_MIGRATE_TLS
)
POLL_SECONDS = 0.5
# Aborting takes a moment: it starts this long before the task's deadline.
ABORT_BEFORE_DEADLINE_SECONDS = 5.0
MIB = 1024 * 1024


def _host_part(address):
    return f"[{address}]" if ":" in address else address


def destination_uri(peer, pki_dir):
    """The libvirt URI the source's libvirtd opens to reach the destination's migration gateway."""
    return (
        f"qemu+tls://{_host_part(peer.address)}:{peer.gateway_port}/system"
        f"?pkipath={quote(str(pki_dir), safe='/')}"
    )


def disks_to_migrate(spec):
    return ["vda", "vdb"] if spec.ephemeral_disk_mb else ["vda"]


def parameters(spec, destination_files, peer, options, domain_type, nics=()):
    """The typed parameters of migrateToURI3."""
    xml = domain_xml.build_domain_xml(spec, destination_files, domain_type, nics)
    params = {
        libvirt.VIR_MIGRATE_PARAM_URI: f"tcp://{_host_part(peer.address)}",
        libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml,
        libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: xml,
        libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS: disks_to_migrate(spec),
        libvirt.VIR_MIGRATE_PARAM_TLS_DESTINATION: peer.host,
    }
    if options.bandwidth_mib_s:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = options.bandwidth_mib_s
    return params


def migrate(dom, uri, params, options, progress, deadline, clock=time.time):
    """Run the migration, reporting progress; abort it when the deadline comes near. Returns when the
    guest runs on the destination, or raises AgentError (the guest then runs here)."""
    dom.migrateSetMaxDowntime(options.max_downtime_ms, 0)
    outcome = {}

    def run():
        try:
            dom.migrateToURI3(uri, params, FLAGS)
        except libvirt.libvirtError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=f"migrate-{dom.UUIDString()}", daemon=True)
    thread.start()
    aborted = False
    while thread.is_alive():
        thread.join(POLL_SECONDS)
        if not thread.is_alive():
            break
        if not aborted and clock() >= deadline.at - ABORT_BEFORE_DEADLINE_SECONDS:
            aborted = _abort(dom)
            continue
        _report(dom, progress)
    if "error" not in outcome:
        return
    if aborted:
        raise AgentError(protocol.ERR_MIGRATION_ABORTED, "the migration was aborted at the task's deadline")
    raise AgentError(protocol.ERR_HYPERVISOR, f"live migration: {outcome['error'].get_error_message()}")


def _abort(dom):
    try:
        dom.abortJob()
    except libvirt.libvirtError:
        return False
    return True


def _report(dom, progress):
    try:
        stats = dom.jobStats(0)
    except libvirt.libvirtError:
        return
    total, processed = stats.get("data_total", 0), stats.get("data_processed", 0)
    if total:
        progress(min(99, int(100 * processed / total)), f"copied {processed // MIB} of {total // MIB} MiB")
