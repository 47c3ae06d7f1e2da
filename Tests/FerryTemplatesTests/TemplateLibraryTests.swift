import Foundation
import Testing
@testable import FerryTemplates

@Suite struct TemplateLibraryTests {
    @Test func optionFolderComesFirstThenEnvironmentThenBuiltIn() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        try TemplateFixtures.writeMini(in: root + "/mine", name: "fedavg")
        try TemplateFixtures.writeMini(in: root + "/env", name: "envonly")
        let library = try TemplateLibrary.locate(options: [root + "/mine"], environment: ["FERRY_TEMPLATES": root + "/env"],
                                                 executable: nil, currentDirectory: TemplateFixtures.builtInFolder)
        #expect(library.folders.map(\.origin) == ["--templates", "FERRY_TEMPLATES", "built-in"])
        #expect(library.folders.last?.path == TemplateFixtures.builtInFolder)
        // The user's fedavg hides the built-in one.
        #expect(try library.find("fedavg").directory == root + "/mine/fedavg")
        #expect(try library.find("envonly").description == "A minimal test template.")
        #expect(try library.find("cyclic").directory.hasPrefix(TemplateFixtures.builtInFolder))
        let listed = library.list()
        #expect(listed.filter { $0.name == "fedavg" }.map(\.hidden) == [false, true])
        #expect(Set(listed.map(\.name)) == Set(TemplateFixtures.builtInNames + ["envonly"]))
    }

    @Test func builtInFolderIsFoundWalkingUp() throws {
        let deep = (TemplateFixtures.builtInFolder as NSString).appendingPathComponent("fedavg/job/apps")
        #expect(TemplateLibrary.builtInFolder(executable: nil, currentDirectory: deep) == TemplateFixtures.builtInFolder)
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        try TemplateFixtures.writeMini(in: root + "/templates")
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        // The executable's folder wins over the current folder.
        #expect(TemplateLibrary.builtInFolder(executable: root + "/bin/ferry", currentDirectory: deep) == root + "/templates")
        // A templates/ folder without any template.yaml does not count.
        let empty = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(empty) }
        try FileManager.default.createDirectory(atPath: empty + "/templates/nothing", withIntermediateDirectories: true)
        #expect(TemplateLibrary.builtInFolder(executable: nil, currentDirectory: empty) == nil)
    }

    @Test func missingUserFolderIsAnError() throws {
        #expect(throws: TemplateError.searchFolderMissing(path: "/no/such/folder", origin: "--templates")) {
            _ = try TemplateLibrary.locate(options: ["/no/such/folder"], environment: [:], executable: nil, currentDirectory: "/")
        }
        #expect(throws: TemplateError.searchFolderMissing(path: "/no/env", origin: "FERRY_TEMPLATES")) {
            _ = try TemplateLibrary.locate(options: [], environment: ["FERRY_TEMPLATES": "/no/env"], executable: nil, currentDirectory: "/")
        }
    }

    @Test func unknownTemplateSuggestsAName() throws {
        let library = TemplateLibrary(folders: [.init(path: TemplateFixtures.builtInFolder, origin: "built-in")])
        #expect(throws: TemplateError.templateNotFound(name: "fedavgg", searched: ["\(TemplateFixtures.builtInFolder) (built-in)"],
                                                       suggestion: "fedavg")) {
            _ = try library.find("fedavgg")
        }
    }

    @Test func templateByPath() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let folder = try TemplateFixtures.writeMini(in: root)
        #expect(try TemplateLibrary(folders: []).find(folder).name == "mini")
    }
}
