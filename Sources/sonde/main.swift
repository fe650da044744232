import SondeCLI

SondeCommand.runMain()
