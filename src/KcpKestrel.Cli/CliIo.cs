namespace KcpKestrel.Cli;

/// <summary>Where a command writes and what it may read; tests pass writers of their own.</summary>
/// <param name="Out">Results and the ready line.</param>
/// <param name="Error">Diagnostics.</param>
/// <param name="In">Watched by relay: when it ends the relay stops. Null: not watched.</param>
/// <param name="Interactive">A terminal: live progress with Spectre.Console instead of plain lines.</param>
/// <param name="ErrorIsTerminal">
/// Standard error is a terminal (even when standard output is piped): multicast's live progress line goes there.
/// </param>
internal sealed record CliIo(TextWriter Out, TextWriter Error, TextReader? In, bool Interactive, bool ErrorIsTerminal = false)
{
    public static CliIo FromConsole() => new(
        Console.Out,
        Console.Error,
        Console.In,
        !Console.IsOutputRedirected && !Console.IsErrorRedirected,
        !Console.IsErrorRedirected);
}
