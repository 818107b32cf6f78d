from gradops_suite.ops.entry import main

main()
