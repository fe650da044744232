import SondeCLI

SondeCommand.main()
