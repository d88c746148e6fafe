import Testing
@testable import ChirpCore

@Suite struct JSONParserTests {
    @Test func keepsNumberTextSo64BitIdsSurvive() throws {
        let value = try JSONParser.parse(#"{"id": 972472958596866048, "x": -1.5e3}"#)
        #expect(value["id"] == .number("972472958596866048"))
        #expect(value["id"]?.idValue == "972472958596866048")
        #expect(value["x"] == .number("-1.5e3"))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#"["a\"b\\c\/d\n\t", "\u00e9\ud83d\ude00"]"#)
        #expect(value == .array([.string("a\"b\\c/d\n\t"), .string("é😀")]))
    }

    @Test func preservesKeyOrderAndRoundTrips() throws {
        let text = #"{"b":1,"a":[true,false,null],"c":{"d":"é\n"}}"#
        let value = try JSONParser.parse(text)
        #expect(value.objectValue?.keys == ["b", "a", "c"])
        #expect(String(decoding: value.serialized, as: UTF8.self) == #"{"b":1,"a":[true,false,null],"c":{"d":"é\n"}}"#)
    }

    @Test func rejectsInvalidUTF8WithItsOwnKind() {
        var bytes = Array(#"{"text":"ab"}"#.utf8)
        bytes.insert(0xFF, at: 10)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
        do { _ = try JSONParser.parse(bytes) } catch { #expect(error.kind == .invalidUTF8) }
    }

    @Test func rejectsLoneSurrogates() {
        do { _ = try JSONParser.parse(#""\ud800x""#); Issue.record("accepted a lone surrogate") } catch {
            #expect(error.kind == .invalidUTF8)
        }
    }

    @Test(arguments: [
        ("{", "expected a string key"),
        ("[", "unexpected end of input"),
        (#"{"a" 1}"#, "expected ':' after key"),
        ("[1,]", "unexpected character ']'"),
        ("01", "unexpected data after the JSON value"),
        ("tru", "unexpected end of input"),
        (#""a\x""#, "invalid escape '\\x'"),
        ("{} {}", "unexpected data after the JSON value"),
    ])
    func reportsWhatIsWrong(input: String, message: String) {
        do {
            _ = try JSONParser.parse(input)
            Issue.record("accepted \(input)")
        } catch {
            #expect(error.kind == .invalidJSON)
            #expect(error.message == message)
        }
    }

    @Test func boundsNestingDepth() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        do { _ = try JSONParser.parse(deep); Issue.record("accepted 10 000 levels") } catch {
            #expect(error.kind == .tooDeep)
        }
        let ok = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect((try? JSONParser.parse(ok)) != nil)
    }

    @Test func writerEscapesControlCharacters() {
        var writer = JSONWriter()
        writer.string("a\u{01}\"\\\r")
        #expect(writer.string == #""a\u0001\"\\\r""#)
    }

    /// Random bytes inside a JSON string: the scanner accepts exactly what the standard library's
    /// UTF-8 validation accepts (overlong forms, surrogates, values past U+10FFFF and truncated
    /// sequences are all rejected as invalid_utf8), and the string reads back byte for byte.
    @Test func utf8ValidationAgreesWithTheStandardLibrary() {
        var rng = SplitMix64(seed: 7)
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xA0, 0xED, 0x9F, 0xEF,
                                    0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF, 0x20]
        var accepted = 0
        for _ in 0..<20_000 {
            let length = Int(rng.next() % 12)
            let content = (0..<length).map { _ in interesting[Int(rng.next() % UInt64(interesting.count))] }
            let document = [0x22] + content + [0x22]
            let valid = String(validating: content, as: UTF8.self) != nil
            do {
                let value = try JSONParser.parse(document)
                #expect(valid, "accepted \(content)")
                #expect(value.stringValue.map { Array($0.utf8) } == content)
                accepted += 1
            } catch {
                #expect(!valid, "rejected \(content): \(error)")
                #expect(error.kind == .invalidUTF8)
            }
        }
        #expect(accepted > 1000)
    }

    /// The eight-bytes-at-a-time scans find a special byte at every position of a word, in the
    /// parser and in the writer.
    @Test func specialBytesAtEveryOffset() throws {
        for offset in 0..<20 {
            let padding = String(repeating: "x", count: offset)
            for special in ["\"", "\\", "\n", "\u{1}", "é", "東", "😀"] {
                let text = padding + special + padding
                var writer = JSONWriter()
                writer.string(text)
                #expect(try JSONParser.parse(writer.bytes) == .string(text), "\(offset) \(special.debugDescription)")
            }
            let raw = Array(("\"" + padding).utf8) + [0x0A] + Array("\"".utf8)
            #expect(throws: JSONParseError.self) { try JSONParser.parse(raw) }
        }
    }

    @Test func escapedKeysAreFoundByTheDecoder() throws {
        let tweets = try TweetDecoder.decode(bytes: Array(#"{"\u0069d": "1", "t\u0065xt": "caf\u00e9 #x"}"#.utf8))
        #expect(tweets.map(\.id) == ["1"])
        #expect(tweets.map(\.text) == ["café #x"])
    }
}

@Suite struct JSONDocumentSplitterTests {
    func split(_ text: String, chunk: Int = .max) -> [(String, Int)] {
        var splitter = JSONDocumentSplitter()
        var documents: [JSONDocumentSplitter.Document] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + min(chunk, bytes.count))
            documents += splitter.feed(bytes[index..<end])
            index = end
        }
        documents += splitter.finish()
        return documents.map { (String(decoding: $0.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), $0.line) }
    }

    @Test func jsonLines() {
        let docs = split("{\"id\":1}\n{\"id\":2}\r\n\n{\"id\":3}")
        #expect(docs.map(\.0) == [#"{"id":1}"#, #"{"id":2}"#, #"{"id":3}"#])
        #expect(docs.map(\.1) == [1, 2, 4])
    }

    @Test func topLevelArrayYieldsItsElements() {
        let docs = split("[\n {\"id\": 1, \"t\": \"a,]}\"},\n {\"id\": [2]}\n]\n")
        #expect(docs.map(\.0) == [#"{"id": 1, "t": "a,]}"}"#, #"{"id": [2]}"#])
        #expect(docs.map(\.1) == [2, 3])
    }

    @Test func prettyPrintedConcatenatedDocuments() {
        let docs = split("{\n  \"data\": [\n    {\"id\": \"1\"}\n  ]\n}\n{\n  \"id\": 2\n}\n")
        #expect(docs.count == 2)
        #expect(docs.map(\.1) == [1, 6])
    }

    @Test func brokenLineDoesNotSwallowTheNextLines() {
        let docs = split("{\"id\":1}\n{\"id\": 2, \"text\": \"unterminated\n{\"id\":3}\n{\"id\":4}\n")
        #expect(docs.map(\.0) == [#"{"id":1}"#, #"{"id": 2, "text": "unterminated"#, #"{"id":3}"#, #"{"id":4}"#])
    }

    @Test func chunkBoundariesDoNotMatter() throws {
        let text = String(decoding: try SharedData.bytes("sample-v11.jsonl"), as: UTF8.self)
        let whole = split(text)
        let byteByByte = split(text, chunk: 7)
        #expect(whole.count == 72)
        #expect(whole.map(\.0) == byteByByte.map(\.0))
    }

    @Test func skipsByteOrderMark() {
        #expect(split("\u{FEFF}{\"id\":1}\n").map(\.0) == [#"{"id":1}"#])
    }
}

import Foundation
