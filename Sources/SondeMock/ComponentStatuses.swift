/// The KubeSphere (Kubernetes) `ComponentStatusList` the mock answers, as a JSON text.
public enum ComponentStatuses {
    public static let defaultComponents = ["scheduler", "controller-manager", "etcd-0", "etcd-1", "etcd-2"]

    /// `unhealthy` names components whose Healthy condition reports "False".
    public static func json(components: [String] = defaultComponents, unhealthy: Set<String> = []) -> String {
        let items = components.map { name -> String in
            let healthy = !unhealthy.contains(name)
            let message = healthy ? (name.hasPrefix("etcd") ? #"{\"health\":\"true\",\"reason\":\"\"}"# : "ok") : "Get \\\"https://127.0.0.1:10259/healthz\\\": dial tcp 127.0.0.1:10259: connect: connection refused"
            return """
                {"metadata":{"name":"\(name)","creationTimestamp":null},\
                "conditions":[{"type":"Healthy","status":"\(healthy ? "True" : "False")","message":"\(message)"\(healthy ? "" : #","error":"connection refused""#)}]}
                """
        }
        return #"{"kind":"ComponentStatusList","apiVersion":"v1","metadata":{},"items":["# + items.joined(separator: ",") + "]}"
    }
}
