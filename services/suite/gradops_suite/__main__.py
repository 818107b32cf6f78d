from gradops_suite.ops.app import main

main()
