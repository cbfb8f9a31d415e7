using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KcpKestrel.Tests.Shared;

/// <summary>
/// Debian's kcptun (release 20210922, package <c>kcptun</c>): <c>kcptun-server</c> or <c>kcptun-client</c> on loopback
/// with the given flags, started on a free port and waited for; disposing it kills and reaps the process, so a test
/// never leaves one behind. Everything it logs is kept for failure messages.
/// </summary>
internal sealed class Kcptun : IAsyncDisposable
{
    public const string InstallHint = "kcptun is not installed: apt-get install kcptun (.ci/run does it).";

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly Lock _lock = new();

    private Kcptun(Process process) => _process = process;

    /// <summary>The server's UDP address, or the client's TCP address.</summary>
    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>What it has logged so far (kcptun logs to stderr).</summary>
    public string Log
    {
        get
        {
            lock (_lock)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>kcptun-server on a free UDP port of 127.0.0.1, forwarding to <paramref name="target"/>; ready once its socket is bound.</summary>
    public static async Task<Kcptun> StartServerAsync(IPEndPoint target, params string[] flags)
    {
        // kcptun logs the address it was given, not the one bound: pick a free port first.
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var kcptun = Start("kcptun-server", ["-l", $"127.0.0.1:{port}", "-t", target.ToString(), .. flags]);
        kcptun.EndPoint = new IPEndPoint(IPAddress.Loopback, port);
        try
        {
            await TestWaits.WaitUntilAsync(() => kcptun._process.HasExited || UdpPortRange.IsBound(port), "kcptun-server to bind its UDP port");
            if (kcptun._process.HasExited)
            {
                throw new InvalidOperationException($"kcptun-server exited with {kcptun._process.ExitCode}: {kcptun.Log}");
            }
        }
        catch
        {
            await kcptun.DisposeAsync();
            throw;
        }

        return kcptun;
    }

    /// <summary>kcptun-client on a free TCP port of 127.0.0.1, to the server at <paramref name="remote"/>; ready once it listens.</summary>
    public static async Task<Kcptun> StartClientAsync(IPEndPoint remote, params string[] flags)
    {
        var kcptun = Start("kcptun-client", ["-l", "127.0.0.1:0", "-r", remote.ToString(), .. flags]);
        try
        {
            string? listening = null;
            await TestWaits.WaitUntilAsync(() => kcptun._process.HasExited || (listening = kcptun.FindLine("listening on: ")) is not null, "kcptun-client to listen");
            if (listening is null)
            {
                throw new InvalidOperationException($"kcptun-client exited with {kcptun._process.ExitCode}: {kcptun.Log}");
            }

            kcptun.EndPoint = IPEndPoint.Parse(listening.Trim());
        }
        catch
        {
            await kcptun.DisposeAsync();
            throw;
        }

        return kcptun;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TestWaits.Bound);
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static Kcptun Start(string program, string[] args)
    {
        var path = Path.Combine("/usr/bin", program);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(InstallHint);
        }

        var start = TestProcess.StartInfo(path, args);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var kcptun = new Kcptun(process);
        process.ErrorDataReceived += (_, e) => kcptun.Append(e.Data);
        process.OutputDataReceived += (_, e) => kcptun.Append(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return kcptun;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_lock)
            {
                _log.AppendLine(line);
            }
        }
    }

    /// <summary>The rest of the first logged line containing <paramref name="marker"/>, or null.</summary>
    private string? FindLine(string marker)
    {
        foreach (var line in Log.Split('\n'))
        {
            var at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                return line[(at + marker.Length)..];
            }
        }

        return null;
    }
}
