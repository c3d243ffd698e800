import BerthJSON

/// Fills in the fields swift-protobuf's JSON leaves out when unset, as Go's protojson with
/// EmitUnpopulated prints them (crictl's `-o json`): "" and 0 and false, "0" for 64-bit
/// integers, [] and {} for repeated fields and maps (unset messages stay out, as with
/// protojson's EmitDefaultValues); and puts the fields in field-number order and map
/// entries in key order. The table is generated from the CRI descriptor.
public enum CRIFieldDefaults {
    struct Field {
        enum Kind {
            /// The unset value.
            case scalar(JSONValue)
            case message(String)
            /// Of messages of that type ("" for scalars).
            case repeated(String)
            /// With message values of that type ("" for scalars).
            case map(String)
        }

        let name: String
        let kind: Kind
    }

    /// `value`, a message of the protobuf type `type` ("runtime.v1.Image"), with its unset
    /// fields filled in. Types the table does not know are returned as they are.
    public static func fill(_ value: JSONValue, type: String) -> JSONValue {
        guard case .object(let object) = value, let fields = table[type] else { return value }
        var members: [(key: String, value: JSONValue)] = []
        for field in fields {
            let present = object[field.name]
            switch field.kind {
            case .scalar(let unset):
                members.append((field.name, present ?? unset))
            case .message(let inner):
                if let present { members.append((field.name, fill(present, type: inner))) }
            case .repeated(let inner):
                let items = present?.arrayValue ?? []
                members.append((field.name, .array(inner.isEmpty ? items : items.map { fill($0, type: inner) })))
            case .map(let inner):
                let entries = (present?.objectValue ?? JSONObject()).members.sorted { $0.key < $1.key }
                members.append((field.name, .object(JSONObject(inner.isEmpty ? entries : entries.map { ($0.key, fill($0.value, type: inner)) }))))
            }
        }
        // Anything the table does not list (a oneof member that is set) stays, at the end.
        for member in object.members where !fields.contains(where: { $0.name == member.key }) {
            members.append(member)
        }
        return .object(JSONObject(members))
    }
}
