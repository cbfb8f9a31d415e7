using System.Net;

namespace KcpKestrel.Cli.Tests.Infrastructure;

/// <summary>
/// <c>kcpkestrel tunnel server|client</c> running in this process until disposed (SIGINT's path: cancellation);
/// ready once it logs kcptun's <c>listening on:</c> line.
/// </summary>
public sealed class TunnelProcess : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task<int> _run;

    private TunnelProcess(CancellationTokenSource stop, Task<int> run, LineWriter output, LineWriter error, IPEndPoint endPoint)
    {
        _stop = stop;
        _run = run;
        Out = output;
        Error = error;
        EndPoint = endPoint;
    }

    public LineWriter Out { get; }

    /// <summary>Its kcptun-style log.</summary>
    public LineWriter Error { get; }

    /// <summary>The server's UDP address or the client's TCP address, as bound.</summary>
    public IPEndPoint EndPoint { get; }

    public static async Task<TunnelProcess> StartAsync(string side, params string[] args)
    {
        const string Marker = "listening on: ";
        var output = new LineWriter();
        var error = new LineWriter();
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => CliApp.RunAsync(["tunnel", side, .. args], new CliIo(output, error, null, false), null, stop.Token));
        var ready = error.WaitForLineAsync(l => l.Contains(Marker, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var first = await Task.WhenAny(ready, run);
        if (first == run)
        {
            throw new InvalidOperationException($"tunnel {side} exited with {await run}: {error.Text}");
        }

        var line = await ready;
        var endPoint = IPEndPoint.Parse(line[(line.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length)..]);
        return new TunnelProcess(stop, run, output, error, endPoint);
    }

    /// <summary>Stops it as SIGINT would and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return await _run.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }
}
