fn main() -> std::process::ExitCode {
    patcher::cli::main()
}
