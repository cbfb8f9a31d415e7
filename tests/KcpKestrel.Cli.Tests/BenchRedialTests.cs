using System.Net;
using System.Text.Json;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

/// <summary>
/// bench --workload sessions when its server goes away mid-run: stopped (the close signal), gone without a word
/// (the round-trip timeout), and nothing at the address any more (the dial's retries, then failed).
/// </summary>
public sealed class BenchRedialTests
{
    private const int Sessions = 8;

    private static readonly string[] Kcp = ["--crypt", "aes", "--key", "cli-test", "--datashard", "10", "--parityshard", "3", "--mode", "fast3"];

    [Fact]
    public async Task Redial_ServeStoppedAndAnotherStartedOnItsPort_EveryEndedSessionRedials()
    {
        var first = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", .. Kcp]);
        var port = first.Kcp.Port;
        ServeProcess? second = null;
        try
        {
            await using var bench = StartSessions(first.Kcp, "--duration", "10", "--redial", "--connect-timeout", "0.3");
            await EchoesFlowingAsync(bench);

            // The stop ends every session with the close signal; for a moment nothing is at the port (each dial
            // attempt is refused and retried), then a new serve takes it.
            Assert.Equal(0, await first.StopAsync());
            await Task.Delay(TimeSpan.FromSeconds(1));
            second = await ServeProcess.StartAsync(["--kcp", $"127.0.0.1:{port}", "--app", "echo", .. Kcp]);

            var json = await ResultAsync(bench, expectedExit: 0);
            Assert.Equal((Sessions, Sessions, 0, 0), (json.GetProperty("ended").GetInt32(), json.GetProperty("ended_eof").GetInt32(), json.GetProperty("ended_error").GetInt32(), json.GetProperty("ended_timeout").GetInt32()));
            Assert.Equal((Sessions, 0, 0), (json.GetProperty("redialed").GetInt32(), json.GetProperty("failed").GetInt32(), json.GetProperty("errors").GetInt32()));
            Assert.Equal(2 * Sessions, json.GetProperty("kcp_sessions").GetInt32());
            Assert.True(json.GetProperty("redial_p50_ms").GetDouble() > 0);
            Assert.True(json.GetProperty("redial_max_ms").GetDouble() >= json.GetProperty("redial_p50_ms").GetDouble());

            // Every session ended, so none kept its first session to the end.
            Assert.Equal(0, json.GetProperty("kept_rtt_p99_us").GetDouble());
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Redial_OverTcp_ServeStoppedAndAnotherStartedOnItsPort_RefusedConnectsAreRetried()
    {
        var first = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo", .. Kcp]);
        var port = first.Tcp!.Port;
        ServeProcess? second = null;
        try
        {
            await using var bench = RunningCli.Start(["bench", "--tcp", first.Tcp.ToString(), "--workload", "sessions", "--sessions", $"{Sessions}", "--rate", "20", "--duration", "10", "--redial"]);
            await EchoesFlowingAsync(bench);

            // A TCP connect to nothing is refused at once: with --redial the dial retries (with backoff) through the gap.
            Assert.Equal(0, await first.StopAsync());
            await Task.Delay(TimeSpan.FromSeconds(1));
            second = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", $"127.0.0.1:{port}", "--app", "echo", .. Kcp]);

            var json = await ResultAsync(bench, expectedExit: 0);
            Assert.Equal((Sessions, Sessions, 0, 0), (json.GetProperty("ended").GetInt32(), json.GetProperty("redialed").GetInt32(), json.GetProperty("failed").GetInt32(), json.GetProperty("errors").GetInt32()));
            Assert.True(json.GetProperty("dial_attempts").GetInt32() > 2 * Sessions, "the first connects after the stop were refused and retried");
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task NoRedial_ServeStopped_EachEndingIsAnError()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", .. Kcp]);
        await using var bench = StartSessions(serve.Kcp, "--duration", "12");
        await EchoesFlowingAsync(bench);
        Assert.Equal(0, await serve.StopAsync());

        var json = await ResultAsync(bench, expectedExit: 1);
        Assert.Equal((Sessions, Sessions), (json.GetProperty("ended").GetInt32(), json.GetProperty("ended_eof").GetInt32()));
        Assert.Equal((0, 0, Sessions), (json.GetProperty("redialed").GetInt32(), json.GetProperty("failed").GetInt32(), json.GetProperty("errors").GetInt32()));
        Assert.Contains("RemoteClose", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redial_ServerVanishesWithoutClose_RoundTripTimeoutEndsThemAndTheyRedial()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", .. Kcp]);
        await using var relay = UdpRelay.Start(serve.Kcp);

        // A round-trip timeout far below the dead link (fast3: about 3 s of retransmissions) and the idle timeout.
        await using var bench = StartSessions(relay.EndPoint, "--duration", "4", "--redial", "--round-trip-timeout", "0.5");
        await EchoesFlowingAsync(bench);
        relay.SilenceExistingFlows();

        var json = await ResultAsync(bench, expectedExit: 0);
        Assert.Equal((Sessions, 0, 0, Sessions), (json.GetProperty("ended").GetInt32(), json.GetProperty("ended_eof").GetInt32(), json.GetProperty("ended_error").GetInt32(), json.GetProperty("ended_timeout").GetInt32()));
        Assert.Equal((Sessions, 0, 0), (json.GetProperty("redialed").GetInt32(), json.GetProperty("failed").GetInt32(), json.GetProperty("errors").GetInt32()));
    }

    [Fact]
    public async Task NoRoundTripBound_ServerVanishesWithoutClose_KcpsOwnTimeoutsEndThem()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", .. Kcp]);
        await using var relay = UdpRelay.Start(serve.Kcp);

        // What a client without a round-trip bound relies on (docs/scale-out.md, "When an instance crashes"): the dead
        // link when it has a message unacknowledged, the idle timeout when its last one was acknowledged and the
        // echo never left. Both shortened here from their defaults (20 retransmissions, 60 s).
        await using var bench = StartSessions(relay.EndPoint, "--duration", "4", "--round-trip-timeout", "60", "--dead-link", "5", "--idle-timeout", "2");
        await EchoesFlowingAsync(bench);
        relay.SilenceExistingFlows();

        var json = await ResultAsync(bench, expectedExit: 1);
        Assert.Equal((Sessions, Sessions, Sessions), (json.GetProperty("ended").GetInt32(), json.GetProperty("ended_error").GetInt32(), json.GetProperty("errors").GetInt32()));
        Assert.Matches(@"\((DeadLink|IdleTimeout)\)$", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Redial_NothingAtTheAddressAnyMore_EveryRetryIsSpentThenFailed()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", .. Kcp]);
        const int retries = 2;
        await using var bench = StartSessions(serve.Kcp, "--duration", "12", "--redial", "--connect-retries", $"{retries}", "--connect-timeout", "0.2");
        await EchoesFlowingAsync(bench);

        // On loopback each attempt's datagrams are refused (ICMP port unreachable): a lost datagram to KCP, so
        // the attempt waits out its timeout, and the next attempt (a new socket, a new source port) follows.
        Assert.Equal(0, await serve.StopAsync());

        var json = await ResultAsync(bench, expectedExit: 1);
        Assert.Equal((Sessions, Sessions), (json.GetProperty("ended").GetInt32(), json.GetProperty("failed").GetInt32()));
        Assert.Equal((0, Sessions), (json.GetProperty("redialed").GetInt32(), json.GetProperty("errors").GetInt32()));
        Assert.Equal(Sessions + (Sessions * (1 + retries)), json.GetProperty("dial_attempts").GetInt32());
        Assert.StartsWith("a redial gave up", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private static RunningCli StartSessions(IPEndPoint target, params string[] flags) =>
        RunningCli.Start(["bench", "--kcp", target.ToString(), "--workload", "sessions", "--sessions", $"{Sessions}", "--rate", "20", .. flags, .. Kcp]);

    /// <summary>Waits for a progress line that counts echoes: every session has dialed and is running.</summary>
    private static Task<string> EchoesFlowingAsync(RunningCli bench) =>
        bench.Out.WaitForLineAsync(l => l.StartsWith("progress ", StringComparison.Ordinal) && !l.Contains(": 0/", StringComparison.Ordinal), TestWaits.Bound);

    private static async Task<JsonElement> ResultAsync(RunningCli bench, int expectedExit)
    {
        var code = await bench.Run.WaitAsync(TestWaits.Bound * 2);
        var json = CliRunner.LastLineJson(bench.Out);
        Assert.True(code == expectedExit, $"exit {code}: {bench.Out.Text}");
        Assert.Equal(Sessions, json.GetProperty("sessions").GetInt32());
        return json;
    }
}
