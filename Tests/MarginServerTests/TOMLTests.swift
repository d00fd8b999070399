import Foundation
import TestSupport
import MarginServer
import Testing

/// The hand-written TOML reader against Python's `tomllib` (the standard library's TOML 1.0
/// parser) as the reference: same values for valid documents, a rejection for invalid ones.
@Suite struct TOMLTests {
    /// Valid TOML 1.0 documents using every construct `margin.toml` supports.
    static let valid: [String] = [
        "# comment only\n",
        "",
        "port = 8080\nhost = \"0.0.0.0\" # trailing comment\n\n[smtp]\nhost = 'mail.example.org'\nport = 465\n",
        "a.b.c = 1\n\"quoted key\" = 2\n'literal key' = 3\n[ \"x y\" . z ]\nw = true\n",
        "[t]\nsub.key = 'v'\nother = false\n",
        "[a.b]\nc = 1\n[a]\nd = 2\n",
        #"s = "tab\tnewline\nquote\"backslash\\ é \u00e9 \U0001F600 \b\f\r""#,
        #"p = 'C:\Users\nobody\'"#,
        "m = \"\"\"\nline one\nline two \\\n    joined\"\"\"\n",
        "m = '''\nraw \\n text with \"quotes\" and 'single' '''\n",
        "q = \"\"\"a\"\"b\"\"\"\nr = \"\"\"\"\"x\"\"\"\"\"\n",
        "i = [+99, 42, 0, -17, 1_000, 5_349_221, 0xDEADbeef, 0xdead_beef, 0o755, 0b1101_0110]\n",
        "f = [3.14, -0.01, +1.0, 5e+22, 1e06, -2E-2, 6.626e-34, 224_617.445_991, 0.0, -0.0, 1e0]\n",
        "b = [true, false]\n",
        "n = [ [1, 2], ['a', \"b\"], [], [[[]]] ]\nmixed = [1, 'one', 1.5, true]\n",
        "multi = [\n  'a', # first\n  'b',\n\n  # between\n  'c',\n]\n",
        "crlf = 1\r\n[t]\r\nk = \"v\"\r\n",
        "\"ключ\" = \"значение\"\n'日本' = '語'\n",
        "empty = \"\"\nlit = ''\nml = \"\"\"\"\"\"\n",
        "big = 9223372036854775807\nsmall = -9223372036854775808\n",
        "ws\t=\t1\t\n  indented = 2\n",
        "[a]\n[a.b]\n[a.b.c]\nx = 1\n",
    ]

    /// Documents every TOML parser must refuse.
    static let invalid: [String] = [
        "a = \n", "a = \"open\n", "a = 1 b = 2\n", "= 1\n", "a = 01\n", "a = 1__0\n", "a = _1\n", "a = 1_\n",
        "a = 1.\n", "a = .5\n", "a = tru\n", "a = \"\\x\"\n", "[a]\n[a]\n", "a = 1\na = 2\n", "a = 1\n[a]\n",
        "a.b = 1\na = 2\n", "a = 1\na.b = 2\n", "a = [1 2]\n", "a = 0x\n", "a = 1e\n", "a = +0x1\n", "a = \"\\uD800\"\n",
        "a = 'x\ny'\n", "[a\nb = 1\n", "a b = 1\n", "a = \"x\" \"y\"\n", "a.b = 1\n[a.b]\n", "[a]\nb.c = 1\n[a.b]\n",
        "a = 1\r b = 2\n", "a = \"\u{01}\"\n", "a = [\n1,\n,2]\n", "a = 1e1_\n", "a = 1.e2\n",
    ]

    /// Valid TOML that `margin.toml` deliberately does not support, refused with a clear error.
    static let unsupported: [(String, String)] = [
        ("when = 1979-05-27T07:32:00Z\n", "dates"),
        ("day = 1979-05-27\n", "dates"),
        ("t = 07:32:00\n", "dates"),
        ("point = { x = 1, y = 2 }\n", "inline tables"),
        ("[[servers]]\nname = 'a'\n", "arrays of tables"),
    ]

    @Test func validDocumentsReadAsPythonReadsThem() throws {
        let reference = try Self.python(Self.valid)
        for (document, expected) in zip(Self.valid, reference) {
            let entries = try TOMLDocument.parse(document)
            #expect(try Self.canonical(Self.json(entries)) == Self.canonical(expected), "document: \(document.debugDescription)")
        }
    }

    @Test func invalidDocumentsAreRefusedAsPythonRefusesThem() throws {
        let reference = try Self.python(Self.invalid)
        for (document, expected) in zip(Self.invalid, reference) {
            #expect(expected is NSNull, "Python accepted \(document.debugDescription): the case is wrong")
            #expect(throws: TOMLError.self, "document: \(document.debugDescription)") { try TOMLDocument.parse(document) }
        }
    }

    @Test func unsupportedValidTOMLIsRefusedByName() throws {
        let reference = try Self.python(Self.unsupported.map(\.0))
        for ((document, feature), expected) in zip(Self.unsupported, reference) {
            #expect(!(expected is NSNull), "Python refused \(document.debugDescription)")
            do {
                _ = try TOMLDocument.parse(document)
                Issue.record("accepted \(document.debugDescription)")
            } catch {
                #expect(error.message.contains(feature), "\(error)")
            }
        }
    }

    @Test func errorsNameTheirLine() {
        let cases: [(String, Int)] = [
            ("a = 1\n\n# c\nb = \n", 4), ("[t]\nx = 1\n[t]\n", 3), ("a = 1\nb = '''\n\n\nunclosed", 5),
            ("a = [\n1,\n2\n3]\n", 4), ("a = 9223372036854775808\n", 1), ("x = 1\r\ny = 2\r\nx = 3\r\n", 3),
        ]
        for (document, line) in cases {
            do {
                _ = try TOMLDocument.parse(document)
                Issue.record("accepted \(document.debugDescription)")
            } catch {
                #expect(error.line == line, "\(document.debugDescription): \(error)")
            }
        }
    }

    @Test func entriesCarryTheLineOfTheirKey() throws {
        let entries = try TOMLDocument.parse("# head\nport = 1\n\n[smtp]\nhost = \"\"\"\nx\n\"\"\"\nuser = 'u'\n")
        #expect(entries.map(\.key) == ["port", "smtp.host", "smtp.user"])
        #expect(entries.map(\.line) == [2, 5, 8])
    }

    // MARK: Reference

    /// The entries as the flattened, typed JSON the reference script prints.
    static func json(_ entries: [TOMLEntry]) -> [String: Any] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.key, typed($0.value)) })
    }

    static func typed(_ value: TOMLValue) -> Any {
        switch value {
        case .string(let text): ["string": text]
        case .integer(let number): ["integer": String(number)]
        case .float(let number): ["float": number.isNaN ? "nan" : number.isInfinite ? (number < 0 ? "-inf" : "inf") : String(number)]
        case .boolean(let flag): ["boolean": flag]
        case .array(let items): ["array": items.map(typed)]
        }
    }

    /// JSON text with sorted keys, so two structures compare by value.
    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    /// Each document as Python's `tomllib` reads it (flattened like `json(_:)`), or NSNull
    /// where it refuses it.
    static func python(_ documents: [String]) throws -> [Any] {
        let script = #"""
import json, math, sys, tomllib
def typed(v):
    if isinstance(v, bool): return {"boolean": v}
    if isinstance(v, int): return {"integer": str(v)}
    if isinstance(v, float):
        if math.isnan(v): return {"float": "nan"}
        if math.isinf(v): return {"float": "inf" if v > 0 else "-inf"}
        return {"float": repr(v)}
    if isinstance(v, str): return {"string": v}
    if isinstance(v, list): return {"array": [typed(x) for x in v]}
    return {"other": str(v)}
def flat(d, prefix, out):
    for k, v in d.items():
        if isinstance(v, dict): flat(v, prefix + [k], out)
        else: out[".".join(prefix + [k])] = typed(v)
    return out
results = []
for doc in json.load(sys.stdin):
    try: results.append(flat(tomllib.loads(doc), [], {}))
    except tomllib.TOMLDecodeError: results.append(None)
print(json.dumps(results))
"""#
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [ProcessInfo.processInfo.environment["MARGIN_TEST_PYTHON"] ?? "python3", "-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: documents))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try #require(JSONSerialization.jsonObject(with: data) as? [Any])
    }
}
