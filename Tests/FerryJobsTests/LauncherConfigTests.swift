import FerryJobs
import Foundation
import Testing

/// `executor.launcher`, `executor.slurm`, `executor.queue_timeout` and a client app's `resources:`.
@Suite struct LauncherConfigTests {
    @Test func aSlurmExecutorDecodesEveryField() throws {
        let job = try JobFixture(["apps/client/app.yaml": """
            executor:
              command: [train]
              timeout: 2h
              launcher: slurm
              queue_timeout: 12h
              slurm:
                partition: gpu
                account: fl
                time: 3h
                gpus: 2
                cpus_per_task: 8
                mem: 64GiB
                nodes: 2
                ntasks_per_node: 1
                extra: ["--qos=long", "--constraint=a100"]
            resources:
              gpus: 2
              max_memory: 64GiB
            """])
        defer { job.remove() }
        let client = try #require(try JobFolder.load(directory: job.directory).clientApps["client"])
        #expect(client.executor.launcher == .slurm)
        #expect(client.executor.queueTimeout == .seconds(12 * 3600))
        #expect(client.executor.slurm == SlurmRequest(partition: "gpu", account: "fl", time: .seconds(3 * 3600), gpus: 2,
                                                      cpusPerTask: 8, mem: 64 << 30, nodes: 2, ntasksPerNode: 1,
                                                      extra: ["--qos=long", "--constraint=a100"]))
        #expect(client.resources == TaskResources(gpus: 2, maxMemory: 64 << 30))
        let local = try JobFixture()
        defer { local.remove() }
        #expect(try JobFolder.load(directory: local.directory).clientApps["client"]?.executor.launcher == .local)
    }

    @Test func slurmFieldsAreCheckedWithTheirLines() throws {
        let d = try JobFixture.diagnostics(["apps/client/app.yaml": """
            executor:
              command: [train]
              launcher: slrum
              slurm:
                gpu: 1
                extra: [qos=long]
            resources:
              gpus: -1
            """])
        expectDiagnostic(d, "apps/client/app.yaml", 3, 13, "'executor.launcher' must be one of local, slurm, found 'slrum'", hint: "did you mean 'slurm'?")
        expectDiagnostic(d, "apps/client/app.yaml", 5, 5, "unknown key 'gpu' in 'executor.slurm'", hint: "did you mean 'gpus'?")
        expectDiagnostic(d, "apps/client/app.yaml", 6, 13, "each entry of 'executor.slurm.extra' must be one sbatch option starting with '-', found 'qos=long'",
                         hint: "write the option and its value as one entry, e.g. \"--qos=long\"")
        expectDiagnostic(d, "apps/client/app.yaml", 8, 9, "'resources.gpus' is -1, outside 0...1024", hint: "choose a value from 0 to 1024")
        let local = try JobFixture.diagnostics(["apps/client/app.yaml": "executor:\n  command: [train]\n  queue_timeout: 1h\n"])
        expectDiagnostic(local, "apps/client/app.yaml", 3, 3, "'executor.queue_timeout' applies only to `launcher: slurm`",
                         hint: "add `launcher: slurm` to the executor, or remove 'queue_timeout'")
    }
}
