/// YAML collections into the SondeCore model.
enum SondeSpec {}
