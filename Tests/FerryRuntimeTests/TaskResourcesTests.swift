import FerryExecutor
import FerryJobs
import FerryRuntime
import Foundation
import Testing

/// What a site has (site.yaml `resources:`, `slurm:`) and what a task asks (`resources:` of the client
/// app): disjoint GPUs for concurrent local executors, refusals before anything runs, `max_memory` as
/// the executor's address-space limit, and the batch script a Slurm request becomes.
@Suite(.tags(.spawnsProcesses)) struct TaskResourcesTests {

    private static let train = """
    exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"
    """

    @Test func concurrentLocalExecutorsGetDisjointGPUs() throws {
        let dir = try RT.temporaryDirectory("gpus")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace"
        // Each executor records its devices, then waits until both have (so they surely ran at once).
        let script = """
        echo "devices=$CUDA_VISIBLE_DEVICES" >> '\(trace)'
        while [ "$(wc -l < '\(trace)')" -lt 2 ]; do sleep 0.1; done
        \(Self.train)

        """
        var jobs: [String] = []
        for name in ["gpu-a", "gpu-b"] {
            let job = try RT.writeJob(in: dir, name: name, server: .init(rounds: 1, minClients: 1), command: ["sh", "task.sh"],
                                      files: ["task.sh": script])
            try RT.append("resources:\n  gpus: 1\n", to: job + "/apps/client/app.yaml")
            jobs.append(job)
        }
        let fed = try RT.federation(in: dir, clients: 1, start: false)
        try RT.append("resources:\n  gpus: 2\n  memory: 8GiB\n", to: fed.clients[0] + "/site.yaml")
        try RT.startWatchers(fed)
        defer { fed.stop() }
        let ids = try jobs.map { try fed.submit($0).id }
        for id in ids {
            let run = try RT.waitFinished(fed, id)
            #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        }
        #expect(RT.lines(trace).sorted() == ["devices=0", "devices=1"], "\(RT.lines(trace))")
    }

    @Test func aJobAskingMoreThanTheSiteHasIsRefusedThereBeforeAnythingRuns() throws {
        let dir = try RT.temporaryDirectory("gpus-refused")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let marker = dir + "/ran"
        let job = try RT.writeJob(in: dir, name: "greedy", server: .init(rounds: 1, minClients: 1), command: ["sh", "task.sh"],
                                  files: ["task.sh": "touch '\(marker)'\n" + Self.train + "\n"])
        try RT.append("resources:\n  gpus: 3\n  max_memory: 16GiB\n", to: job + "/apps/client/app.yaml")
        let fed = try RT.federation(in: dir, clients: 2, start: false)
        try RT.append("resources:\n  gpus: 2\n  memory: 8GiB\n", to: fed.clients[0] + "/site.yaml")
        try RT.append("slurm:\n  max_gpus: 8\n", to: fed.clients[1] + "/site.yaml")
        try RT.startWatchers(fed)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedFailed)
        let site1 = run.state.sites["site-1"] ?? ""
        #expect(site1.hasPrefix("refused: the job asks for 3 GPU(s) per task (resources.gpus in apps/client/app.yaml); this site has 2 (resources.gpus in its site.yaml); the job asks for 16.00 GiB of memory per task (resources.max_memory); this site has 8.00 GiB (resources.memory in its site.yaml)"), "\(site1)")
        let site2 = run.state.sites["site-2"] ?? ""
        #expect(site2.hasPrefix("refused: the job asks for 3 GPU(s) per task"), "a site that declares no GPUs has none: \(site2)")
        #expect(!FileManager.default.fileExists(atPath: marker), "nothing ran")
    }

    @Test func maxMemoryLimitsWhatTheLocalExecutorMayAllocate() throws {
        let dir = try RT.temporaryDirectory("max-memory")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace"
        let job = try RT.writeJob(in: dir, name: "memory", server: .init(rounds: 1, minClients: 1), command: ["sh", "task.sh"],
                                  files: ["task.sh": "echo \"limit=$(ulimit -d)\" >> '\(trace)'\n" + Self.train + "\n"])
        // job.yaml's max_memory applies when the app sets none.
        try RT.append("resources:\n  max_memory: 2GiB\n", to: job + "/job.yaml")
        let fed = try RT.federation(in: dir, clients: 1)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(RT.lines(trace) == ["limit=\(2 * 1024 * 1024)"], "\(RT.lines(trace))")
    }

    @Test func aMultiNodeRequestBecomesTorchrunUnderSrun() throws {
        let context = ExecutorContext(inputModel: "/w/in.safetensors", outputModel: "/w/out.safetensors", result: "/w/result.json",
                                      round: 2, rounds: 5, site: "site-1", jobID: "20261207-1200-ab", task: "train-r0002",
                                      appDirectory: "/usr", workDirectory: "/w/work")
        let invocation = ExecutorInvocation(
            command: ["torchrun", "--nnodes", "2", "--nproc-per-node", "4", "--rdzv-endpoint", "$MASTER_ADDR:$MASTER_PORT",
                      "train.py", "--round", "{round}", "--out", "{output_model}"],
            environment: ["HF_HOME": "{work_dir}/hf"], timeout: .seconds(7200), context: context, logPath: "/w/site-1.log",
            inheritedEnvironment: ["PATH": "/usr/bin:/bin"])
        let request = SlurmRequest(partition: "gpu", account: "fl-project", time: .seconds(3 * 3600 + 1), gpus: 8,
                                   cpusPerTask: 16, mem: 200 << 30, nodes: 2, ntasksPerNode: 1, extra: ["--qos=long"])
        // `torchrun` must exist for the script to be written; the test uses a stand-in on PATH.
        let bin = try RT.temporaryDirectory("torchrun")
        defer { try? FileManager.default.removeItem(atPath: bin) }
        _ = FileManager.default.createFile(atPath: bin + "/torchrun", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        var withTool = invocation
        withTool.toolDirectory = bin
        let script = try SlurmBatchScript(invocation: withTool, request: request, jobName: "ferry-20261207-1200-ab-site-1-train-r0002",
                                          stderrPath: "/w/slurm-stderr.log", exitStatusPath: "/w/slurm-exit-status").text
        for line in ["#SBATCH --job-name=ferry-20261207-1200-ab-site-1-train-r0002", "#SBATCH --output=/w/site-1.log",
                     "#SBATCH --error=/w/slurm-stderr.log", "#SBATCH --chdir=/usr", "#SBATCH --partition=gpu",
                     "#SBATCH --account=fl-project", "#SBATCH --time=0-03:01:00", "#SBATCH --nodes=2",
                     "#SBATCH --ntasks-per-node=1", "#SBATCH --cpus-per-task=16", "#SBATCH --gpus=8",
                     "#SBATCH --mem=204800M", "#SBATCH --qos=long",
                     "export FERRY_ROUND='2'", "export FERRY_OUTPUT_MODEL='/w/out.safetensors'", "export HF_HOME='/w/work/hf'",
                     "export PATH='\(bin):/usr/bin:/bin'",
                     "export MASTER_ADDR=\"$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\"",
                     "srun --kill-on-bad-exit=1 '\(bin)/torchrun' '--nnodes' '2' '--nproc-per-node' '4' '--rdzv-endpoint' '$MASTER_ADDR:$MASTER_PORT' 'train.py' '--round' '2' '--out' '/w/out.safetensors'",
                     "exit $status"] {
            #expect(script.split(separator: "\n").contains(Substring(line)), "missing: \(line)\n\(script)")
        }
        #expect(script.hasPrefix("#!/bin/bash\n"))
    }
}
