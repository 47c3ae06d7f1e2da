import FerrySupport
import Foundation

/// A job's lifecycle state, as in NVFlare. Stored as its raw value in `state.json`.
public enum JobState: String, Codable, Sendable, CaseIterable {
    /// In the job store, waiting for the server watcher.
    case submitted
    /// The server watcher accepted it and is deploying it to the sites.
    case dispatched
    /// The workflow is running.
    case running
    /// Every round finished; the final model is in `models/final.safetensors`.
    case finishedCompleted = "finished:completed"
    /// Stopped on request (`ferry abort`).
    case finishedAborted = "finished:aborted"
    /// Stopped by an error; `reason` says which.
    case finishedFailed = "finished:failed"

    /// Whether the job has reached a final state.
    public var isFinished: Bool {
        switch self {
        case .finishedCompleted, .finishedAborted, .finishedFailed: return true
        case .submitted, .dispatched, .running: return false
        }
    }

    /// Whether a watcher may be working on the job (dispatched or running).
    public var isActive: Bool { self == .dispatched || self == .running }
}

/// The contents of `jobs/<id>/state.json`. Only the server watcher writes it once the job is picked up
/// (through ``JobStore/update(id:_:)``); `ferry submit` writes the first one.
public struct JobStateFile: Codable, Sendable, Equatable {
    /// The job id.
    public var id: String
    /// The job's name (from job.yaml).
    public var name: String
    /// The lifecycle state.
    public var state: JobState
    /// Why the job failed or was aborted (set with the `finished:failed` / `finished:aborted` states).
    public var reason: String?
    /// Set while the job waits for disk space (the watcher keeps running and the job continues by
    /// itself once there is room): which folder is full and how much it needs. Absent otherwise.
    public var paused: String?
    /// The current round (0 before the first round starts; equals `rounds` when the last finished).
    public var round: Int
    /// The number of rounds the workflow runs.
    public var rounds: Int
    /// Per-site state of the client sites the job deploys to, by site name (the server's state is the job's).
    /// Submission writes `pending`; the runtime then writes what the site is doing (docs/workspaces.md).
    public var sites: [String: String]
    /// Bytes the server wrote to the sites' inboxes (on the wire, after quantization).
    public var bytesSent: Int64
    /// Bytes the server received from the sites (on the wire).
    public var bytesReceived: Int64
    /// What `bytesSent` would have been without quantization.
    public var bytesSentUnquantized: Int64
    /// What `bytesReceived` would have been without quantization.
    public var bytesReceivedUnquantized: Int64
    /// When the workflow started.
    public var startedAt: Date?
    /// When the job reached a final state.
    public var finishedAt: Date?
    /// When this file was last written.
    public var updatedAt: Date

    /// Creates a state record.
    public init(id: String, name: String, state: JobState = .submitted, reason: String? = nil, round: Int = 0,
                rounds: Int, sites: [String: String], bytesSent: Int64 = 0, bytesReceived: Int64 = 0,
                bytesSentUnquantized: Int64 = 0, bytesReceivedUnquantized: Int64 = 0,
                startedAt: Date? = nil, finishedAt: Date? = nil, updatedAt: Date = Date(), paused: String? = nil) {
        self.id = id
        self.paused = paused
        self.name = name
        self.state = state
        self.reason = reason
        self.round = round
        self.rounds = rounds
        self.sites = sites
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.bytesSentUnquantized = bytesSentUnquantized
        self.bytesReceivedUnquantized = bytesReceivedUnquantized
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, state, reason, paused, round, rounds, sites
        case bytesSent = "bytes_sent"
        case bytesReceived = "bytes_received"
        case bytesSentUnquantized = "bytes_sent_unquantized"
        case bytesReceivedUnquantized = "bytes_received_unquantized"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case updatedAt = "updated_at"
    }

    /// The same record with every date at the precision `state.json` stores it (milliseconds).
    var normalized: JobStateFile {
        var copy = self
        copy.startedAt = startedAt?.stored
        copy.finishedAt = finishedAt?.stored
        copy.updatedAt = updatedAt.stored
        return copy
    }
}

extension Date {
    /// The date at the precision of ferry's timestamps (``Timestamp/normalized(_:)``).
    var stored: Date { Timestamp.normalized(self) }
}

/// The contents of `jobs/<id>/meta.json`: written once at submission, never changed.
public struct JobMeta: Codable, Sendable, Equatable {
    /// The job id.
    public var id: String
    /// The job's name (from job.yaml).
    public var name: String
    /// job.yaml's description, if any.
    public var description: String?
    /// When it was submitted.
    public var submittedAt: Date
    /// SHA-256 (hex) of `job.tar.gz`.
    public var archiveSHA256: String
    /// Size of `job.tar.gz` in bytes.
    public var archiveBytes: Int64
    /// The folder or archive it was submitted from (absolute path), or `clone:<id>` for a clone.
    public var source: String
    /// The job this one was cloned from, if any.
    public var clonedFrom: String?
    /// The server site that signed the archive.
    public var signedBy: String
    /// The sites the job deploys to (resolved: `all` expanded to the federation's clients), sorted, server first.
    public var sites: [String]

    /// Creates a meta record.
    public init(id: String, name: String, description: String?, submittedAt: Date, archiveSHA256: String,
                archiveBytes: Int64, source: String, clonedFrom: String? = nil, signedBy: String,
                sites: [String]) {
        self.id = id
        self.name = name
        self.description = description
        self.submittedAt = submittedAt
        self.archiveSHA256 = archiveSHA256
        self.archiveBytes = archiveBytes
        self.source = source
        self.clonedFrom = clonedFrom
        self.signedBy = signedBy
        self.sites = sites
    }

    enum CodingKeys: String, CodingKey {
        case id, name, description, source, sites
        case submittedAt = "submitted_at"
        case archiveSHA256 = "archive_sha256"
        case archiveBytes = "archive_bytes"
        case clonedFrom = "cloned_from"
        case signedBy = "signed_by"
    }
}

/// A job in the store: its files' paths, its meta record and its current state.
public struct JobRecord: Sendable, Equatable {
    /// Where its files are.
    public var paths: JobPaths
    /// `meta.json`.
    public var meta: JobMeta
    /// `state.json`.
    public var state: JobStateFile
    /// Whether `abort.request` exists.
    public var abortRequested: Bool

    /// The job id.
    public var id: String { meta.id }
    /// The job name.
    public var name: String { meta.name }
}

/// The paths of one job folder in the server's job store (`<server ws>/jobs/<id>/`).
public struct JobPaths: Sendable, Equatable {
    /// `jobs/<id>/`.
    public var directory: String

    /// Paths for the job folder at `directory`.
    public init(directory: String) { self.directory = directory }

    private func file(_ name: String) -> String { FileSystem.join(directory, name) }

    /// `job.tar.gz`: the reproducible tar.gz of the job folder (FerryArchive).
    public var archive: String { file("job.tar.gz") }
    /// `job.sig`: base64 Ed25519 signature (see ``JobSignature``).
    public var signature: String { file("job.sig") }
    /// `files/`: the job's large files, kept beside the archive (``ExternalFiles``).
    public var externalDirectory: String { file("files") }
    /// `files.json`: the list of `files/` (``ExternalFiles``).
    public var externalManifest: String { file("files.json") }
    /// `files.sig`: the signature of `files.json`.
    public var externalSignature: String { file("files.sig") }
    /// `meta.json`.
    public var meta: String { file("meta.json") }
    /// `state.json`.
    public var state: String { file("state.json") }
    /// `abort.request`: present when `ferry abort` asked the watcher to stop the job.
    public var abortRequest: String { file("abort.request") }
    /// `rounds/`: one `round-NNNN.json` per finished round (written by the runtime).
    public var roundsDirectory: String { file("rounds") }
    /// `rounds/round-NNNN.json` for round `n` (1-based, four digits or more).
    public func roundRecord(_ n: Int) -> String {
        FileSystem.join(roundsDirectory, "round-" + String(format: "%04d", n) + ".json")
    }
    /// `logs/`: `<site>.log` per site.
    public var logsDirectory: String { file("logs") }
    /// `logs/<site>.log`.
    public func log(site: String) -> String { FileSystem.join(logsDirectory, site + ".log") }
    /// `models/`: global models.
    public var modelsDirectory: String { file("models") }
    /// `models/final.safetensors`.
    public var finalModel: String { FileSystem.join(modelsDirectory, "final.safetensors") }
    /// `models/global-round-N.safetensors`: the global model after round `n`.
    public func globalModel(round n: Int) -> String {
        FileSystem.join(modelsDirectory, "global-round-\(n).safetensors")
    }
    /// `metrics.json`: the job's metrics summary (written by the runtime).
    public var metrics: String { file("metrics.json") }
    /// `work/`: scratch space for the runtime (unpacked job, temporary files).
    public var workDirectory: String { file("work") }
}
