from gradops_suite.cli import main

main()
