import Foundation
import Testing
import FerryJobs

/// Arguments of an executor command that name files in the app folder must name files that exist.
@Suite struct CommandFileTests {
    static let shipped: [String: String?] = [
        "apps/client/custom/train.py": "print('train')\n",
        "apps/client/configs/base.yaml": "lr: 0.1\n",
    ]

    static func diagnostics(command: String) throws -> [Diagnostic] {
        var files = shipped
        files["apps/client/app.yaml"] = "executor:\n  command: \(command)\n"
        return try JobFixture.diagnostics(files)
    }

    @Test func missingScriptIsReportedAtItsListElementWithDidYouMean() throws {
        let d = try Self.diagnostics(command: "[python3, custom/trian.py, --lr, \"0.1\"]")
        #expect(d.count == 1, "\(d)")
        expectDiagnostic(d, "apps/client/app.yaml", 2, 22, "'executor.command' names 'custom/trian.py', which does not exist in the app folder",
                         hint: "did you mean 'custom/train.py'?")
    }

    @Test func scriptExtensionsWithoutAFolderAndFilesInShippedFoldersAreChecked() throws {
        let d = try Self.diagnostics(command: "[bash, run.sh, --config, ./configs/bse.yaml, analysis.R]")
        expectDiagnostic(d, "apps/client/app.yaml", 2, 19, "names 'run.sh'", hint: "put the file at")
        expectDiagnostic(d, "apps/client/app.yaml", 2, 37, "names './configs/bse.yaml'", hint: "did you mean 'configs/base.yaml'?")
        expectDiagnostic(d, "apps/client/app.yaml", 2, 57, "names 'analysis.R'")
        #expect(d.count == 3, "\(d)")
        // The one-string form is checked too, at the string.
        let scalar = try Self.diagnostics(command: "python3 custom/trian.py")
        expectDiagnostic(scalar, "apps/client/app.yaml", 2, 12, "names 'custom/trian.py'", hint: "did you mean 'custom/train.py'?")
    }

    @Test func optionsValuesPlaceholdersAndOutsidePathsAreNotFlagged() throws {
        let job = try JobFixture(Self.shipped.merging([
            "apps/client/app.yaml": """
            executor:
              command: [python3, custom/train.py, ./configs/base.yaml, --lr, "0.1", --data, data/mnist, -o, out/log.txt,
                        "{app_dir}/custom/x.py", "{work_dir}/y.sh", /opt/tools/run.sh, ../shared/lib.py, ~/x.py,
                        --script=other.py, https://example.org/a.py, "import sys; print('a.py')", configs/new.json]
            """,
        ]) { $1 })
        defer { job.remove() }
        // configs/new.json would be flagged (configs/ is shipped) if it were a path into the app folder
        // the executor reads; it is the one argument here that is.
        let d = job.diagnostics()
        #expect(d.count == 1, "\(d)")
        expectDiagnostic(d, "apps/client/app.yaml", 4, 87, "names 'configs/new.json'")
    }

    @Test func validCommandWithShippedFilesLoads() throws {
        let job = try JobFixture(Self.shipped.merging([
            "apps/client/app.yaml": "executor:\n  command: [python3, custom/train.py, --config, configs/base.yaml, \"{input_model}\"]\n",
        ]) { $1 })
        defer { job.remove() }
        #expect(throws: Never.self) { try JobFolder.load(directory: job.directory) }
    }

    @Test func missingRelativeProgramGetsDidYouMean() throws {
        var files = Self.shipped
        files["apps/client/custom/train.sh"] = "#!/bin/sh\n"
        files["apps/client/app.yaml"] = "executor:\n  command: [custom/trian.sh]\n"
        let d = try JobFixture.diagnostics(files)
        expectDiagnostic(d, "apps/client/app.yaml", 2, 12, "the program 'custom/trian.sh' does not exist in the app folder",
                         hint: "did you mean 'custom/train.sh'?")
    }
}
