/// The demo's collection, carried inside the binary so that `sonde demo` works from any
/// folder: a copy of collections/kubesphere.yaml, byte for byte (a test keeps them equal).
enum DemoCollection {
    /// Where `sonde demo` writes it when the folder it runs in has no collections/kubesphere.yaml.
    static let path = ".sonde/demo/kubesphere.yaml"

    static let text = #"""
# yaml-language-server: $schema=../schema/collection.schema.json
#
# KubeSphere smoke test: log in, then check that every control-plane component is healthy.
# Against a real cluster:  sonde run collections/kubesphere.yaml --var base_url=http://NODE_IP:NODE_PORT
#                     or:  sonde run collections/kubesphere.yaml --env staging   (environments/staging.yaml)
# The password comes from $KS_PASSWORD, or a .env file beside this one (kept out of git).
name: kubesphere-smoke
description: Log in, then check that every control-plane component is healthy
base_url: "{{ base_url }}"
vars:
  base_url: http://127.0.0.1:31078
  username: admin
  password: "{{ env.KS_PASSWORD | default('P@88w0rd') }}"
secrets: [password]
defaults:
  headers: { Accept: application/json }
  timeout: 10s
requests:
  - name: login
    method: POST
    url: /kapis/iam.kubesphere.io/v1alpha2/login
    json: { username: "{{ username }}", password: "{{ password }}" }
    expect:
      status: 200
      jsonpath:
        $.access_token: { exists: true }
    capture:
      token: { jsonpath: $.access_token, secret: true }
    # A new token on every login is not news: keep the tokens out of `sonde diff`.
    diff:
      ignore: [$.access_token, $.refresh_token]

  - name: component statuses
    method: GET
    url: /api/v1/componentstatuses
    headers: { Authorization: "Bearer {{ token }}" }
    expect:
      status: 200
      headers:
        Content-Type: { contains: application/json }
      jsonpath:
        $.kind: ComponentStatusList
        $.items[*].metadata.name: { contains: scheduler }
        $.items[*].conditions[?@.type == 'Healthy'].status: { each: "True" }
        $.items: { length: { ">=": 3 } }
      duration: { "<": 2s }
"""# + "\n"
}
