import FerryExecutor
import FerryJobs
import FerrySupport
import Foundation

extension ClientRole {
    /// `jobs/<id>/executor/`: the folder of job `id`'s persistent executor (`FERRY_EXECUTOR_DIR`).
    func persistentDirectory(_ id: String) -> String { FileSystem.join(jobDirectory(id), "executor") }

    /// The key of the GPUs a persistent executor holds for its whole life (`job/executor`).
    private func persistentGPUKey(_ id: String) -> String { FileSystem.join(id, "executor") }

    /// The running persistent executor of job `job`, or a new one (its process starts with the first
    /// task); nil while a process of an earlier watcher survives SIGKILL or the GPUs it needs are taken.
    func persistentExecutor(job: String, record: TaskRecord, appDir: String, plan: ClientPlan,
                            settings: PersistentExecutorSettings) -> PersistentExecutor? {
        if let existing = persistentExecutors[job] {
            guard existing.isStopping else { return existing }
            existing.waitUntilStopped()  // a task after the job's end here: the old process exits first
            persistentExecutors.removeValue(forKey: job)
        }
        guard stopPersistentLeftovers(job: job),
              let gpus = assignGPUs(job: job, task: "executor", count: plan.resources?.gpus ?? 0) else { return nil }
        let directory = persistentDirectory(job)
        let context = ExecutorContext(inputModel: "", outputModel: "", result: "", round: 0, rounds: record.rounds,
                                      site: workspace.name, jobID: job, task: "", appDirectory: appDir, workDirectory: "")
        var invocation = ExecutorInvocation(command: plan.command, environment: plan.env, timeout: plan.timeout, context: context,
                                            logPath: logPath(job), toolDirectory: options.executableDirectory,
                                            killGracePeriod: .seconds(2))
        invocation.memoryLimit = plan.resources?.maxMemory
        if workspace.gpuCount > 0 {
            invocation.environment["CUDA_VISIBLE_DEVICES"] = gpus.map(String.init).joined(separator: ",")
            gpusInUse[persistentGPUKey(job)] = gpus
        }
        let executor = PersistentExecutor(.init(invocation: invocation, directory: directory, restarts: settings.restarts))
        persistentExecutors[job] = executor
        log(job, "persistent executor: one process takes every task of the job (state in \(directory))")
        return executor
    }

    /// Kills what is left of job `job`'s persistent executor started by an earlier watcher (its output
    /// went to that watcher, and it may be in the middle of a task that runs again); false when some
    /// of it survives SIGKILL.
    func stopPersistentLeftovers(job: String) -> Bool {
        let record = FileSystem.join(persistentDirectory(job), PersistentExecutorFiles.process)
        guard persistentExecutors[job] == nil, FileSystem.exists(record) else { return true }
        return stopLeftovers(job: job, task: "executor", attempt: 0, record: record)
    }

    /// Asks job `job`'s persistent executor to exit (its `stop` file, then SIGTERM after `grace`) and frees its GPUs.
    func stopPersistentExecutor(_ job: String, grace: Duration = .seconds(10)) {
        guard let executor = persistentExecutors[job], !executor.isStopping else { return }
        executor.stop(grace: grace)
        releaseGPUs(persistentGPUKey(job))
        let record = executor.record
        log(job, "persistent executor stopped: \(record.starts) start(s), \(record.crashes) crash(es)"
            + (record.lastCrash.map { " (last: \($0))" } ?? ""))
    }

    /// The watcher stops: every persistent executor is asked to exit and waited for.
    func stopPersistentExecutors() {
        for job in persistentExecutors.keys.sorted() { stopPersistentExecutor(job, grace: .seconds(2)) }
        for executor in persistentExecutors.values { executor.waitUntilStopped() }
        persistentExecutors.removeAll()
    }
}
