import Foundation

/// A small JSON Schema (2020-12) checker for the keywords csumlab's trace schema uses: type,
/// const, enum, required, properties, additionalProperties, items, $ref to #/$defs, pattern,
/// minLength, minimum, anyOf/oneOf. Returns every violation with its JSON path.
struct JSONSchemaValidator {
    let root: [String: Any]

    init(schemaText: String) throws {
        root = try JSONSerialization.jsonObject(with: Data(schemaText.utf8)) as! [String: Any]
    }

    func validate(_ value: Any) -> [String] {
        var errors: [String] = []
        check(value, root, "$", &errors)
        return errors
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String, ref.hasPrefix("#/$defs/") else { return schema }
        let name = String(ref.dropFirst("#/$defs/".count))
        return ((root["$defs"] as? [String: Any])?[name] as? [String: Any]) ?? [:]
    }

    private func typeName(_ v: Any) -> String {
        if v is NSNull { return "null" }
        if let n = v as? NSNumber {
            if String(cString: n.objCType) == "c" { return "boolean" }
            return n.doubleValue == n.doubleValue.rounded() ? "integer" : "number"
        }
        if v is String { return "string" }
        if v is [Any] { return "array" }
        if v is [String: Any] { return "object" }
        return "unknown"
    }

    private func same(_ a: Any, _ b: Any) -> Bool {
        (a as? NSObject)?.isEqual(b) ?? false
    }

    private func check(_ v: Any, _ s0: [String: Any], _ path: String, _ errors: inout [String]) {
        let s = resolve(s0)
        for key in ["anyOf", "oneOf"] {
            guard let branches = s[key] as? [[String: Any]] else { continue }
            let passing = branches.filter { b in
                var e: [String] = []
                check(v, b, path, &e)
                return e.isEmpty
            }.count
            if key == "anyOf" ? passing == 0 : passing != 1 {
                errors.append("\(path): matches \(passing) of the \(key) branches")
            }
        }
        if let t = s["type"] {
            let allowed = (t as? [String]) ?? [t as! String]
            let actual = typeName(v)
            if !allowed.contains(actual) && !(actual == "integer" && allowed.contains("number")) {
                errors.append("\(path): expected \(allowed.joined(separator: "|")), got \(actual)")
                return
            }
        }
        if let c = s["const"], !same(v, c) { errors.append("\(path): expected constant \(c)") }
        if let e = s["enum"] as? [Any], !e.contains(where: { same(v, $0) }) { errors.append("\(path): \(v) not in enum") }
        if let m = s["minimum"] as? Int, typeName(v) == "integer", let n = v as? Int, n < m {
            errors.append("\(path): \(n) is below the minimum \(m)")
        }
        if let str = v as? String {
            if let m = s["minLength"] as? Int, str.count < m { errors.append("\(path): shorter than \(m)") }
            if let p = s["pattern"] as? String, let re = try? Regex(p), (try? re.wholeMatch(in: str)) == nil {
                errors.append("\(path): '\(str.prefix(40))' does not match \(p)")
            }
        }
        if let obj = v as? [String: Any] {
            for r in (s["required"] as? [String]) ?? [] where obj[r] == nil { errors.append("\(path): missing '\(r)'") }
            let props = (s["properties"] as? [String: Any]) ?? [:]
            for (k, x) in obj {
                if let ps = props[k] as? [String: Any] {
                    check(x, ps, path + "." + k, &errors)
                } else if let ap = s["additionalProperties"] {
                    if let b = ap as? Bool, !b { errors.append("\(path): unexpected key '\(k)'") }
                    if let aps = ap as? [String: Any] { check(x, aps, path + "." + k, &errors) }
                }
            }
        }
        if let arr = v as? [Any], let items = s["items"] as? [String: Any] {
            for (i, x) in arr.enumerated() { check(x, items, "\(path)[\(i)]", &errors) }
        }
    }
}
