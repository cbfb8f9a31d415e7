using System.IO.Pipelines;
using Microsoft.Extensions.Time.Testing;

namespace KcpKestrel.Smux.Tests.Session;

public sealed class SmuxSessionKeepAliveTests
{
    private const string Nop = "0103000000000000";

    [Fact]
    public async Task Session_PeerSilentPastTimeout_SendsNopsThenCloses()
    {
        var time = new FakeTimeProvider();
        var toSession = new Pipe();
        var fromSession = new Pipe();
        await using var session = new SmuxSession(DuplexPipes.Create(toSession.Reader, fromSession.Writer), isClient: true, new SmuxOptions(), time);

        await AdvanceAsync(time, TimeSpan.FromSeconds(10));
        Assert.Equal(Nop, Convert.ToHexStringLower(await SmuxTestStreams.ReadExactlyAsync(fromSession.Reader, 8)));

        await AdvanceAsync(time, TimeSpan.FromSeconds(20));
        await session.Completion.WaitAsync(TestWaits.Bound);
        Assert.Equal("keepalive timeout", session.CloseReason);
        Assert.Equal(1, session.Counters.KeepAliveTimeouts);
    }

    [Fact]
    public async Task Session_PeerSendsNops_StaysOpen()
    {
        var time = new FakeTimeProvider();
        var toSession = new Pipe();
        var fromSession = new Pipe();
        await using var session = new SmuxSession(DuplexPipes.Create(toSession.Reader, fromSession.Writer), isClient: true, new SmuxOptions(), time);

        for (var second = 0; second < 60; second += 5)
        {
            await toSession.Writer.WriteAsync(Convert.FromHexString(Nop));
            await Task.Delay(20);
            await AdvanceAsync(time, TimeSpan.FromSeconds(5));
        }

        Assert.Null(session.CloseReason);
    }

    /// <summary>Moves the clock a second at a time, letting the keepalive timer run at each tick.</summary>
    private static async Task AdvanceAsync(FakeTimeProvider time, TimeSpan span)
    {
        for (var i = 0; i < (int)span.TotalSeconds; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(5);
        }
    }
}
