namespace KcpKestrel.Cli;

internal static class Program
{
    public static async Task<int> Main(string[] args) =>
        await CliApp.RunAsync(args, CliIo.FromConsole(), TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
}
