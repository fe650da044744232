import Testing

@testable import SondeCore

struct JSONPathTests {
    let componentStatuses: JSONValue = [
        "kind": "ComponentStatusList",
        "items": [
            ["metadata": ["name": "scheduler"], "conditions": [["type": "Healthy", "status": "True"]]],
            ["metadata": ["name": "controller-manager"], "conditions": [["type": "Healthy", "status": "True"]]],
            ["metadata": ["name": "etcd-0"], "conditions": [["type": "Healthy", "status": "False"]]],
        ],
    ]

    @Test func selectsWithNormalizedPaths() throws {
        let path = try JSONPath("$.items[*].conditions[?@.type=='Healthy'].status")
        let nodes = try path.nodes(in: componentStatuses)
        #expect(nodes.map(\.value) == ["True", "True", "False"])
        #expect(nodes[2].path == "$['items'][2]['conditions'][0]['status']")
        #expect(try path.values(in: componentStatuses) == ["True", "True", "False"])
        #expect(!path.isSingular)
    }

    @Test func singularQueries() throws {
        #expect(try JSONPath("$.kind").isSingular)
        #expect(try JSONPath("$['items'][0].metadata.name").isSingular)
        #expect(try !JSONPath("$.items[*]").isSingular)
        #expect(try !JSONPath("$..name").isSingular)
        #expect(try !JSONPath("$.items[0:1]").isSingular)
    }

    @Test func normalizedPathsEscapeNames() {
        let path = NormalizedPath([.name("it's"), .name("a\\b"), .name("line\nbreak"), .name("\u{1}"), .index(3)])
        #expect(path.description == #"$['it\'s']['a\\b']['line\nbreak']['\u0001'][3]"#)
    }

    @Test(arguments: [
        ("", 1, "empty query"),
        ("items", 1, "starts with '$'"),
        ("$.items[", 9, "expected a selector"),
        ("$.items[?@.a = 1]", 14, "expected ',' or ']'"),
        ("$[?@.a == @.b[*]]", 11, "only singular queries"),
        ("$[?nosuch(@)]", 4, "unknown function 'nosuch'"),
        ("$[?length(@.a)]", 4, "gives a value"),
        ("$[01]", 3, "leading zeros"),
        ("$[9007199254740992]", 3, "out of range"),
        ("$.a ", 4, "unexpected white space"),
    ])
    func errorsNameTheColumn(query: String, column: Int, fragment: String) {
        do {
            _ = try JSONPath(query)
            Issue.record("\(query) should be rejected")
        } catch {
            #expect(error.column == column, "\(query): \(error)")
            #expect(error.message.contains(fragment), "\(query): \(error.message)")
        }
    }

    @Test func functionsAndRegex() throws {
        let doc: JSONValue = ["a": ["kube-scheduler", "etcd-0", "kube-apiserver"], "n": 3]
        #expect(try JSONPath("$.a[?match(@, 'kube-.*')]").values(in: doc) == ["kube-scheduler", "kube-apiserver"])
        #expect(try JSONPath("$.a[?search(@, '[0-9]')]").values(in: doc) == ["etcd-0"])
        #expect(try JSONPath("$[?count(@[*]) == 3]").values(in: ["x": [1, 2, 3], "y": [1]]) == [[1, 2, 3]])
        #expect(try JSONPath("$.a[?length(@) > 6 && !search(@, 'api')]").values(in: doc) == ["kube-scheduler"])
    }
}
