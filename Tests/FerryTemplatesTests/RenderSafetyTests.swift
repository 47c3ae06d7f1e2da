import FerryJobs
import Foundation
import Testing
@testable import FerryTemplates

@Suite struct RenderSafetyTests {
    @Test func symlinkInTheJobTreeIsRefused() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let folder = try TemplateFixtures.writeMini(in: root + "/templates")
        try FileManager.default.createSymbolicLink(atPath: folder + "/job/apps/client/secret", withDestinationPath: "/etc/passwd")
        let template = try JobTemplate.load(directory: folder)
        #expect {
            _ = try TemplateRenderer(template: template)
        } throws: { error in
            guard case let .unsafePath(file, reason)? = error as? TemplateError else { return false }
            return file.hasSuffix("apps/client/secret") && reason.contains("symbolic link")
        }
    }

    @Test func symlinkedTemplateFilesAreRefused() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let folder = try TemplateFixtures.writeMini(in: root + "/templates")
        let elsewhere = root + "/elsewhere"
        try FileManager.default.moveItem(atPath: folder + "/job", toPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: folder + "/job", withDestinationPath: elsewhere)
        #expect(throws: TemplateError.self) { _ = try JobTemplate.load(directory: folder) }

        let second = try TemplateFixtures.writeMini(in: root + "/templates", name: "second")
        try FileManager.default.moveItem(atPath: second + "/template.yaml", toPath: root + "/manifest.yaml")
        try FileManager.default.createSymbolicLink(atPath: second + "/template.yaml", withDestinationPath: root + "/manifest.yaml")
        #expect(throws: TemplateError.self) { _ = try JobTemplate.load(directory: second) }
    }

    @Test(arguments: ["..", "../../escaped", "/tmp/abs", "a/b", "."])
    func fileNamesRenderingOutsideAreRefused(value: String) throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let folder = try TemplateFixtures.writeMini(in: root + "/templates", extra: ["job/{{folder}}/payload.txt": "x"])
        let template = try JobTemplate.load(directory: folder)
        let out = root + "/out/job"
        #expect {
            _ = try TemplateRenderer(template: template).render(into: out, assignments: [.init(name: "folder", value: value)])
        } throws: { error in
            guard case .unsafePath(_, let reason)? = error as? TemplateError else { return false }
            return reason.contains("not a plain file name")
        }
        // Nothing written anywhere: no job, no staging folder, not even the parent folder it created.
        #expect(TemplateFixtures.contents(root) == ["templates"])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/abs/payload.txt"))
    }

    @Test func namesThatRenderEmptyDropTheFile() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let folder = try TemplateFixtures.writeMini(in: root + "/t", extra: ["job/NOTES.txt": "rounds: {{rounds}}\n",
                                                                          "job/{{folder}}/kept.txt.mustache": "{{rounds}} rounds\n"])
        let renderer = try TemplateRenderer(template: try JobTemplate.load(directory: folder))
        _ = try renderer.render(into: root + "/a", assignments: [])
        #expect(try String(contentsOfFile: root + "/a/extra/kept.txt", encoding: .utf8) == "2 rounds\n")
        // NOTES.txt has no .mustache suffix, so it is copied byte for byte.
        #expect(try String(contentsOfFile: root + "/a/NOTES.txt", encoding: .utf8) == "rounds: {{rounds}}\n")
        // An empty folder name drops the folder and everything in it.
        _ = try renderer.render(into: root + "/b", assignments: [.init(name: "folder", value: "")])
        #expect(TemplateFixtures.contents(root + "/b") == ["NOTES.txt", "apps", "job.yaml"])
    }

    @Test func invalidRenderedJobLeavesNothingBehind() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let template = try TemplateFixtures.builtIn("fedavg")
        #expect {
            _ = try TemplateRenderer(template: template).render(into: root + "/bad", assignments: [.init(name: "chunk", value: "1KiB")])
        } throws: { error in
            guard case let .invalidRenderedJob(name, failure)? = error as? TemplateError else { return false }
            return name == "fedavg" && failure.diagnostics.contains { $0.file == root + "/bad/apps/server/app.yaml" && $0.message.contains("chunk") }
        }
        #expect(TemplateFixtures.contents(root).isEmpty)
        // Parent folders created for the output are removed again too.
        #expect(throws: TemplateError.self) {
            _ = try TemplateRenderer(template: template).render(into: root + "/new/deeper/bad", assignments: [.init(name: "chunk", value: "1KiB")])
        }
        #expect(TemplateFixtures.contents(root).isEmpty)
    }

    @Test func existingNonEmptyOutputIsRefused() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        try TemplateFixtures.write(["taken/keep.txt": "mine"], under: root)
        let template = try TemplateFixtures.builtIn("fedavg")
        #expect(throws: TemplateError.outputExists(path: root + "/taken")) {
            _ = try TemplateRenderer(template: template).render(into: root + "/taken", assignments: [])
        }
        #expect(try String(contentsOfFile: root + "/taken/keep.txt", encoding: .utf8) == "mine")
        // An empty folder is fine.
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: false)
        _ = try TemplateRenderer(template: template).render(into: root + "/empty", assignments: [])
        #expect(FileManager.default.fileExists(atPath: root + "/empty/job.yaml"))
    }

    @Test func mustacheSyntaxErrorNamesFileAndLine() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let folder = try TemplateFixtures.writeMini(in: root, extra: ["job/apps/server/app.yaml.mustache": "workflow: fedavg\nrounds: {{#rounds}}\n"])
        #expect {
            _ = try TemplateRenderer(template: try JobTemplate.load(directory: folder))
        } throws: { error in
            guard case let .mustacheSyntax(file, line, _, _)? = error as? TemplateError else { return false }
            return file.hasSuffix("apps/server/app.yaml.mustache") && line >= 2
        }
    }

    @Test func valuesAreNotHTMLEscaped() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let folder = try TemplateFixtures.writeMini(in: root + "/t", extra: ["job/README.md.mustache": "{{folder}} & {{folder_yaml}}\n"])
        _ = try TemplateRenderer(template: try JobTemplate.load(directory: folder))
            .render(into: root + "/a", assignments: [.init(name: "folder", value: "a<b>\"c\"")])
        #expect(try String(contentsOfFile: root + "/a/README.md", encoding: .utf8) == "a<b>\"c\" & \"a<b>\\\"c\\\"\"\n")
    }
}
