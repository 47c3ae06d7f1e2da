import Foundation
import Testing
import FerrySupport

@Suite struct TimestampTests {
    @Test func writesMillisecondsInUTC() {
        let date = Date(timeIntervalSince1970: 1_764_097_501.25)
        #expect(Timestamp.string(date) == "2025-11-25T19:05:01.250Z")
    }

    @Test func aTimeGoesRoundFilesUnchanged() throws {
        var date = Date()
        for _ in 0..<1000 {
            let once = try #require(Timestamp.date(Timestamp.string(date)))
            #expect(once == Timestamp.normalized(date))
            #expect(Timestamp.date(Timestamp.string(once)) == once)
            date = date.addingTimeInterval(0.0137)
        }
        #expect(Timestamp.string(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59.750Z")
    }

    @Test func readsBothPrecisions() throws {
        let old = try #require(Timestamp.date("2025-11-25T19:05:01Z"))
        let new = try #require(Timestamp.date("2025-11-25T19:05:01.250Z"))
        #expect(old.timeIntervalSince1970 == 1_764_097_501)
        #expect(abs(new.timeIntervalSince1970 - 1_764_097_501.25) < 1e-6)
        #expect(Timestamp.date("yesterday") == nil)
    }

    @Test func jsonFilesRoundTripSubsecondTimesAndReadOldFiles() throws {
        struct Record: Codable, Equatable { var at: Date }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-ts-\(UUID().uuidString)").path
        try FileSystem.makeDirectory(dir)
        defer { FileSystem.remove(dir) }
        let path = FileSystem.join(dir, "r.json")
        let record = Record(at: Date(timeIntervalSince1970: 1_764_097_501.375))
        try JSONFile.write(record, to: path)
        #expect(String(decoding: try FileSystem.read(path), as: UTF8.self).contains("\"2025-11-25T19:05:01.375Z\""))
        #expect(try JSONFile.read(Record.self, from: path) == record)
        try FileSystem.write(Array(#"{"at": "2025-11-25T19:05:01Z"}"#.utf8), to: path)
        #expect(try JSONFile.read(Record.self, from: path).at.timeIntervalSince1970 == 1_764_097_501)
        try FileSystem.write(Array(#"{"at": "soon"}"#.utf8), to: path)
        #expect(throws: SupportError.self) { try JSONFile.read(Record.self, from: path) }
        #expect(try JSONFile.readIfPresent(Record.self, from: FileSystem.join(dir, "none.json")) == nil)
    }
}

@Suite struct HexAndRandomTests {
    @Test func hexRoundTripsAndRefusesBadText() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xab, 0xff]
        #expect(Hex.encode(bytes) == "00017f80abff")
        #expect(Hex.decode("00017F80abff") == bytes)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test func splitMix64IsTheReferenceSequence() {
        // The reference SplitMix64 (Vigna) from seed 0.
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xe220_a839_7b1d_cdaf)
        #expect(rng.next() == 0x6e78_9e6a_a1b9_65f4)
        var a = SplitMix64(seed: 7, stream: "x"), b = SplitMix64(seed: 7, stream: "x"), c = SplitMix64(seed: 7, stream: "y")
        let first = a.next()
        #expect(first == b.next())
        #expect(first != c.next())
        let u = a.uniform()
        #expect(u >= 0 && u < 1)
    }
}
