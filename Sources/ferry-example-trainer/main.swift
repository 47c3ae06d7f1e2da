import Foundation

// ferry-example-trainer: the client executor of jobs/hello-fedavg (see TrainerOptions.usage).
let environment = ProcessInfo.processInfo.environment
do {
    guard let options = try TrainerOptions.parse(Array(CommandLine.arguments.dropFirst()), environment: environment) else {
        print(TrainerOptions.usage)
        exit(0)
    }
    try Trainer(options: options).run()
} catch let error as TrainerOptions.UsageError {
    FileHandle.standardError.write(Data("ferry-example-trainer: \(error.description)\n".utf8))
    exit(2)
} catch let error as Trainer.Failure {
    FileHandle.standardError.write(Data("ferry-example-trainer: \(error.description)\n".utf8))
    exit(error.exitCode)
} catch {
    FileHandle.standardError.write(Data("ferry-example-trainer: \(error)\n".utf8))
    exit(1)
}
