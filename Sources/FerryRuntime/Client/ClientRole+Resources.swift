import FerryExecutor
import FerryJobs
import FerrySupport
import FerryWorkspace
import Foundation

/// File names of a Slurm task in its task folder.
enum SlurmFiles {
    /// ``SlurmJobRecord``: the task's Slurm job, recorded before and right after `sbatch`.
    static let record = "slurm.json"
}

/// Why a job asks for more than this site has (site.yaml `resources:` and `slurm:`); the job is refused
/// at its deployment, before anything of it runs.
struct ResourceRefusal: Error, CustomStringConvertible {
    var problems: [String]
    var description: String { problems.joined(separator: "; ") }
}

extension ClientRole {
    /// Whether job `id` runs its tasks through Slurm (they do not count against `--max-jobs`).
    func isSlurmJob(_ id: String) -> Bool {
        (try? JSONFile.readIfPresent(ClientDeployment.self, from: FileSystem.join(jobDirectory(id), "plan.json")))??.plan.launcher == .slurm
    }

    /// The launcher of a Slurm task: its request merged with the site's `slurm:` defaults.
    func slurmLauncher(job: String, task: String, record: TaskRecord, appDir: String, plan: ClientPlan) throws -> SlurmTaskLauncher {
        let invocation = invocation(job: job, task: task, record: record, appDir: appDir, plan: plan)
        let launcher = SlurmTaskLauncher(invocation: invocation, request: try slurmRequest(plan), queueTimeout: plan.queueTimeout,
                                         recordPath: FileSystem.join(taskDirectory(job, task), SlurmFiles.record),
                                         checkInterval: min(.seconds(2), max(.milliseconds(200), options.pollInterval)))
        return launcher
    }

    /// The task's Slurm request: the app's `executor.slurm`, then its `resources:`, then site.yaml's
    /// `slurm:` defaults; `--time` defaults to the executor's timeout plus a minute (ferry enforces the
    /// timeout itself from the job's start; Slurm's limit is the backstop).
    func slurmRequest(_ plan: ClientPlan) throws -> SlurmRequest {
        var request = plan.slurm ?? SlurmRequest()
        let site = workspace.config.slurm
        request.partition = request.partition ?? site?.partition
        request.account = request.account ?? site?.account
        request.time = try request.time ?? workspace.slurmTimes().time ?? plan.timeout + .seconds(60)
        if request.gpus == nil, let gpus = plan.resources?.gpus, gpus > 0 { request.gpus = gpus }
        request.mem = request.mem ?? plan.resources?.maxMemory
        request.extra = (site?.extra ?? []) + request.extra
        return request
    }

    /// The GPUs a local task may have now (the first free `count` of site.yaml's `resources.gpus`), or nil
    /// when too few are free (the task waits; said once in the job's log).
    func assignGPUs(job: String, task: String, count: Int) -> [Int]? {
        guard count > 0 else { return [] }
        let key = FileSystem.join(job, task)
        let used = Set(gpusInUse.values.flatMap { $0 })
        let free = (0..<workspace.gpuCount).filter { !used.contains($0) }
        guard free.count >= count else {
            if waitingForGPUs.insert(key).inserted {
                log(job, "task \(task) waits for \(count) GPU(s): \(free.count) of the site's \(workspace.gpuCount) are free")
            }
            return nil
        }
        waitingForGPUs.remove(key)
        return Array(free.prefix(count))
    }

    func releaseGPUs(_ key: String) { gpusInUse.removeValue(forKey: key) }

    /// Cancels the recorded Slurm jobs of job `id`'s tasks that have no outcome (also those no launcher
    /// of this watcher follows, e.g. submitted by `ferry watch --once`).
    func cancelSlurmJobs(of id: String) {
        for task in FileSystem.list(FileSystem.join(jobDirectory(id), "tasks")) {
            let tdir = taskDirectory(id, task)
            guard !FileSystem.exists(FileSystem.join(tdir, "outcome.json")),
                  running[FileSystem.join(id, task)] == nil else { continue }
            if SlurmTaskLauncher.cancelRecorded(at: FileSystem.join(tdir, SlurmFiles.record)) {
                log(id, "cancelled the Slurm job of task \(task) (scancel)")
            }
        }
    }

    /// Refuses a job whose client app asks for more than this site has: more GPUs than `resources.gpus`,
    /// more memory than `resources.memory`, or (under Slurm) more than the `slurm:` limits of site.yaml.
    func checkResources(app: String, config: ClientAppConfig, jobResources: JobResources?) throws {
        let plan = ClientPlan(config, job: jobResources)
        let file = "apps/\(app)/app.yaml"
        var problems: [String] = []
        let gpus = plan.resources?.gpus ?? 0
        let memory = plan.resources?.maxMemory
        if plan.launcher == .slurm {
            let request = try slurmRequest(plan)
            let limits = workspace.config.slurm
            if let limit = limits?.maxGpus, let asked = request.gpus, asked > limit {
                problems.append("the job asks for \(asked) GPU(s) per task (\(file)); this site's Slurm tasks may have at most \(limit) (slurm.max_gpus in its site.yaml)")
            }
            if let limit = try workspace.slurmMaxMemory(), let asked = request.mem, asked > limit {
                problems.append("the job asks for \(ByteCount.format(asked)) of memory per task (\(file)); this site allows at most \(ByteCount.format(limit)) (slurm.max_mem in its site.yaml)")
            }
            if let limit = try workspace.slurmTimes().maxTime, let asked = request.time, asked > limit {
                problems.append("the job asks for a Slurm time of \(DurationText.format(asked)) (\(file): executor.slurm.time, or executor.timeout plus a minute); this site allows at most \(DurationText.format(limit)) (slurm.max_time in its site.yaml)")
            }
            if let limit = limits?.maxNodes, let asked = request.nodes, asked > limit {
                problems.append("the job asks for \(asked) nodes (\(file)); this site allows at most \(limit) (slurm.max_nodes in its site.yaml)")
            }
        } else {
            if gpus > workspace.gpuCount {
                problems.append("the job asks for \(gpus) GPU(s) per task (resources.gpus in \(file)); this site has \(workspace.gpuCount) (resources.gpus in its site.yaml)")
            }
            if let asked = memory, let limit = try workspace.memoryLimit(), asked > limit {
                problems.append("the job asks for \(ByteCount.format(asked)) of memory per task (resources.max_memory); this site has \(ByteCount.format(limit)) (resources.memory in its site.yaml)")
            }
        }
        guard problems.isEmpty else { throw ResourceRefusal(problems: problems) }
    }
}

extension ClientRole {
    var tasksInProgress: (local: Bool, any: Bool) {
        (running.values.contains { $0.launcher.isLocal }, !running.isEmpty)
    }
}
