import ArgumentParser
import FerrySupport
import Foundation

/// `ferry doctor --share DIR [--peer DIR2]`: measures a share and recommends settings for it.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Measure a shared folder (NFS, SMB, sshfs, local) and recommend ferry's settings for it.",
        discussion: """
        DIR is a folder on the share as this host sees it. DIR2 (--peer) is the same folder through \
        another mount: another host's path to it, or a second mount point on this host. Every file is \
        written in a new DIR/.ferry-doctor-<random> folder, removed at the end, on errors and on Ctrl-C; \
        nothing is written anywhere else.

        Checks on DIR:
          writable           a folder can be created in DIR
          atomic rename      a file replaced by rename reads old or new, whole
          O_EXCL create      creating an existing name fails with EEXIST
          fsync              files and folders can be fsynced
          hard links         ferry links payloads; without links it copies
          long file names    the longest name that can be created (255 usual)
          case sensitivity   whether Case-Probe and case-probe are one file
          free space/inodes  statvfs: bytes available to this user, inodes
          clock skew         mtime of a new file vs this host's clock
          write throughput   16 MiB written and fsynced (sizes the window)
        With --peer DIR2 (written through DIR, looked at through DIR2):
          same folder        DIR2 shows the folder created through DIR
          lookup             how long until stat finds a new name
          listing            how long until a listing shows it
          close-to-open      a file written and closed reads identical at once
          rename             how long a file replaced by rename reads old
          O_EXCL             a create of the same name through DIR2 fails
          inotify            whether a watcher on DIR2 wakes for it
          clock skew         the same file's mtime through DIR2

        ferry looks up every name it waits for (chunks, acks, messages), so the \
        lookup delay matters and a stale listing does not. The lookup is made once \
        before the name exists, as a waiting watcher does, so a negative lookup \
        cache shows. Waits for DIR2 to show a write last at most --timeout, and a \
        value is then reported as "not ... within 60 s". Every check, its rules \
        and the JSON schema: docs/doctor.md.

        Each check prints ok, warning or fail with the measured value and what it means; then the \
        verdict and the recommended poll interval, chunk size, window and mount options (NFS \
        lookupcache and actimeo, SMB cache and actimeo, sshfs dcache_timeout), with the reasons.

        --json prints the same as one JSON object (schema: docs/doctor.md). Exit status: 0 when no \
        check failed (warnings allowed), 1 when a check failed (a hard requirement such as atomic \
        rename, or DIR not writable), 2 for usage errors (DIR missing or not a folder).

        Examples:
          ferry doctor --share /mnt/nfs/federation
          ferry doctor --share /mnt/a/fl --peer /mnt/b/fl    # two mounts, one export
          ferry doctor --share /mnt/a/fl --peer /mnt/b/fl --json | jq .recommended
          ferry doctor --share /mnt/smb/fl --peer /mnt/smb2/fl --timeout 30s
        """
    )

    @Option(help: ArgumentHelp("A folder on the share, as this host sees it.", valueName: "DIR"))
    var share: String

    @Option(help: ArgumentHelp("The same folder through another mount (another host's view).", valueName: "DIR2"))
    var peer: String?

    @Option(help: ArgumentHelp("Longest wait for a write through DIR to show through DIR2 (ms, s, m).", valueName: "DURATION"))
    var timeout: String = "60s"

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        try Self.requireFolder(share, flag: "--share")
        if let peer { try Self.requireFolder(peer, flag: "--peer") }
        let limit = try TransferCommonOptions.duration(timeout, flag: "--timeout")
        guard limit > .zero else { throw ValidationError("--timeout \(timeout): must be longer than 0 (examples: 30s, 2m)") }
    }

    private static func requireFolder(_ path: String, flag: String) throws {
        guard FileSystem.exists(path) else { throw ValidationError("\(flag) \(path): does not exist (give a folder on the share)") }
        guard FileSystem.isDirectory(path) else { throw ValidationError("\(flag) \(path): not a folder (give a folder on the share)") }
    }

    func run() async throws {
        let limit = try TransferCommonOptions.duration(timeout, flag: "--timeout").seconds
        let sharePath = FileSystem.absolute(share)
        let peerPath = peer.map(FileSystem.absolute)
        let report = Self.measure(share: sharePath, peer: peerPath, limit: limit)
        if json {
            var data = try JSONFile.encoder().encode(report)
            data.append(0x0A)
            FileHandle.standardOutput.write(data)
        } else {
            print(DoctorText.render(report), terminator: "")
        }
        if report.exitCode != 0 { throw FerryExit.failure }
    }

    /// Runs every check and builds the report; the scratch folder is gone when it returns.
    static func measure(share: String, peer: String?, limit: Double) -> DoctorReport {
        let started = Date()
        let mount = MountTable.mount(of: share)
        let peerMount = peer.flatMap(MountTable.mount(of:))
        var checks = [DoctorCheck]()
        var advisor = DoctorAdvisor(mount: mount, peerMount: peerMount, peerMeasured: false, limit: limit)
        do {
            let scratch = try DoctorScratch(share: share)
            defer { scratch.remove() }
            var local = ShareProbe(share: share, scratch: scratch)
            checks = local.run()
            advisor.writeBytesPerSecond = local.writeBytesPerSecond
            advisor.freeBytes = local.freeBytes
            if let peer {
                var remote = PeerProbe(scratch: scratch, share: share, peer: peer, limit: limit, inotifyWait: min(2, limit))
                let peerChecks = remote.run()
                checks += peerChecks
                advisor.peerMeasured = peerChecks.first?.status != .fail
                advisor.lookupSeconds = remote.lookupSeconds
                advisor.listingSeconds = remote.listingSeconds
                advisor.renameSeconds = remote.renameSeconds
                advisor.inotifySeen = remote.inotifySeen
            }
        } catch {
            checks = [DoctorCheck(id: "writable", title: "writable", status: .fail, value: String(describing: error),
                                  meaning: "ferry writes inboxes, chunks and acks in this folder: mount the share read-write and give this user write permission. The other checks need it and were not run.")]
        }
        let verdict = DoctorAdvisor.verdict(checks)
        return DoctorReport(share: share, peer: peer, host: Syscall.hostName(), startedAt: started,
                            filesystem: mount, peerFilesystem: peerMount, checks: checks, verdict: verdict,
                            summary: DoctorAdvisor.summary(checks), recommended: advisor.recommendation(),
                            exitCode: verdict == .fail ? 1 : 0)
    }
}
