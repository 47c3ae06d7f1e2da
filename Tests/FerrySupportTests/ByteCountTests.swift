import Testing
import FerrySupport

@Suite struct ByteCountTests {
    @Test(arguments: [
        ("4096", Int64(4096)), ("512KiB", 524_288), ("8MiB", 8_388_608), ("8 mib", 8_388_608),
        ("1GiB", 1_073_741_824), ("1.5GB", 1_500_000_000), ("2k", 2048), ("10B", 10),
    ])
    func parsesSizes(text: String, bytes: Int64) throws {
        #expect(try ByteCount.parse(text) == bytes)
    }

    @Test(arguments: ["", "MiB", "-1MiB", "8 parsecs", "1.2.3KiB", "99999999999TiB", "0.5"])
    func rejectsBadSizes(text: String) {
        #expect(throws: SupportError.invalidByteCount(text)) { try ByteCount.parse(text) }
    }

    @Test func formatsSizes() {
        #expect(ByteCount.format(812) == "812 B")
        #expect(ByteCount.format(5_993_930_752, unit: .mib) == "5716.26 MiB")
        #expect(ByteCount.format(1_073_741_824) == "1.00 GiB")
    }
}

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("90s", Int64(90_000)), ("10m", 600_000), ("1h30m", 5_400_000), ("200ms", 200),
        ("1.5s", 1500), ("2", 2000), ("1d", 86_400_000),
    ])
    func parsesDurations(text: String, ms: Int64) throws {
        #expect(try DurationText.parse(text).milliseconds == ms)
    }

    @Test(arguments: ["", "s", "10x", "1h-30m", "abc", "5 minutes"])
    func rejectsBadDurations(text: String) {
        #expect(throws: SupportError.invalidDuration(text)) { try DurationText.parse(text) }
    }

    @Test func formatsDurations() {
        #expect(DurationText.format(.milliseconds(850)) == "850ms")
        #expect(DurationText.format(.milliseconds(12_400)) == "12.4s")
        #expect(DurationText.format(.seconds(185)) == "3m05s")
        #expect(DurationText.format(.seconds(5400)) == "1h30m")
    }
}
