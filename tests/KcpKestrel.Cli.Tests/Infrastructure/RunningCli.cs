namespace KcpKestrel.Cli.Tests.Infrastructure;

/// <summary>
/// The kcpkestrel entry point running in this process, so a test can act while it runs (on a bench's progress
/// lines); disposing it cancels the run (as SIGINT would) and waits for its end, so a failed test leaves nothing running.
/// </summary>
public sealed class RunningCli : IAsyncDisposable
{
    private readonly CancellationTokenSource _cancel;

    private RunningCli(string[] args)
    {
        _cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var token = _cancel.Token;
        Run = Task.Run(() => CliApp.RunAsync(args, new CliIo(Out, Error, null, false), null, token));
    }

    /// <summary>Completes with the exit code.</summary>
    public Task<int> Run { get; }

    public LineWriter Out { get; } = new();

    public LineWriter Error { get; } = new();

    public static RunningCli Start(params string[] args) => new(args);

    public async ValueTask DisposeAsync()
    {
        if (!Run.IsCompleted)
        {
            await _cancel.CancelAsync();
            try
            {
                await Run.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (OperationCanceledException)
            {
            }
        }

        _cancel.Dispose();
    }
}
