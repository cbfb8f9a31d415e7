using System.Diagnostics;
using System.Text.Json;

namespace KcpKestrel.Cli.Multicast;

/// <summary>
/// A <c>multicast sub</c> in a process of its own, started from this same program: a throughput bench's
/// subscribers are separate processes, as users run them, so each has its own receive thread, GC and CPU
/// account, and the publisher's figures are not shared with theirs.
/// </summary>
internal sealed class SubscriberProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _joined = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _errors = [];
    private string? _lastLine;

    private SubscriberProcess(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(HostPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(SubscriberProcess).Assembly.Location);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.Exited += (_, _) => _joined.TrySetException(new InvalidOperationException($"a subscriber exited before it joined: {Errors()}"));
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lock (_errors)
                {
                    _errors.Add(line);
                }
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Completes when the subscriber printed <c>joined GROUP</c>.</summary>
    public Task Joined => _joined.Task;

    /// <summary>Starts <c>multicast sub</c> with <paramref name="arguments"/> (after "multicast sub").</summary>
    public static SubscriberProcess Start(IEnumerable<string> arguments) => new(["multicast", "sub", .. arguments]);

    /// <summary>
    /// Waits for the process to end (killing it past <paramref name="limit"/> or on cancellation) and parses its last line.
    /// </summary>
    public async Task<JsonElement?> ResultAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            return null;
        }

        // WaitForExitAsync returns after the redirected streams reached their end.
        try
        {
            using var document = JsonDocument.Parse(_lastLine ?? string.Empty);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>What the process wrote on standard error, for a report when it failed.</summary>
    public string Errors()
    {
        lock (_errors)
        {
            return string.Join(" | ", _errors);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    /// <summary>
    /// The dotnet host to run this program's assembly with: the one running now when it is dotnet itself,
    /// else the one the SDK names (DOTNET_HOST_PATH, set under dotnet test and dotnet run), else dotnet on PATH.
    /// </summary>
    private static string HostPath()
    {
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.StartsWith("joined", StringComparison.Ordinal))
        {
            _joined.TrySetResult();
        }

        _lastLine = line;
    }
}
