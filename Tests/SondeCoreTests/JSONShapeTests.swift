import SondeCore
import Testing

struct JSONShapeTests {
    @Test func pathsAndTypesWithArraysCollapsed() throws {
        let document = try JSONValue.parse(Array(#"{"kind":"List","items":[{"name":"a","ready":true},{"name":"b","ready":null,"n":1.5}],"empty":[],"odd key":{"x'y":0}}"#.utf8))
        let shape = JSONShape(of: document)
        #expect(shape.text == """
            $: object
            $.empty: array
            $.items: array
            $.items[*]: object
            $.items[*].n: number
            $.items[*].name: string
            $.items[*].ready: boolean|null
            $.kind: string
            $['odd key']: object
            $['odd key']['x\\'y']: number
            """)
        #expect(JSONShape(text: shape.text) == shape)
    }

    @Test func valuesAndLengthsDoNotChangeTheShape() throws {
        let one = JSONShape(of: try JSONValue.parse(Array(#"{"items":[{"a":1}]}"#.utf8)))
        let three = JSONShape(of: try JSONValue.parse(Array(#"{"items":[{"a":2},{"a":3.5},{"a":-1}]}"#.utf8)))
        #expect(one == three)
        #expect(three.changes(since: one).isEmpty)
    }

    @Test func changesNameAddedRemovedAndRetypedPaths() throws {
        let old = JSONShape(of: try JSONValue.parse(Array(#"{"a":1,"b":"x","c":{"d":true}}"#.utf8)))
        let new = JSONShape(of: try JSONValue.parse(Array(#"{"a":"1","c":{"d":true},"e":[]}"#.utf8)))
        let changes = new.changes(since: old)
        #expect(changes.added == ["$.e"])
        #expect(changes.removed == ["$.b"])
        #expect(changes.retyped == [.init(path: "$.a", old: "number", new: "string")])
    }

    /// `diff: { ignore: … }` removes every node a query selects: members, items (later ones
    /// first, so that indices hold), a node inside one removed, a path that selects nothing.
    @Test func removingTheNodesQueriesSelect() throws {
        let document = try JSONValue.parse(Array(#"{"a":1,"b":{"c":2,"d":[0,1,2,3]},"items":[{"id":1,"t":9},{"id":2,"t":8}],"x'y":true}"#.utf8))
        var locations: [NormalizedPath] = []
        for query in ["$.a", "$.b.d[1]", "$.b.d[-1]", "$.items[*].t", "$.b", "$.b.c", "$.nothing", "$['x\\'y']", "$.items[5]"] {
            locations += try JSONPath(query).nodes(in: document).map(\.location)
        }
        #expect(document.removing(locations).jsonText == #"{"items":[{"id":1},{"id":2}]}"#)
        #expect(document.removing([NormalizedPath()]) == document, "the root stays")
        let list = try JSONValue.parse(Array("[0,1,2,3,4]".utf8))
        #expect(list.removing(try JSONPath("$[?@ > 1]").nodes(in: list).map(\.location)).jsonText == "[0,1]")
    }
}
