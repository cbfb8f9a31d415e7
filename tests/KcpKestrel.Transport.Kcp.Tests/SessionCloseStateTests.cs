using System.IO.Pipelines;
using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Kcp.Tests.InMemory;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>Closing a session, step by step, over an in-memory link on a manual clock.</summary>
public sealed class SessionCloseStateTests
{
    [Fact]
    public async Task GracefulClose_DrainsThenSignalsAndLingers_CloseRepeatsTimesAnRtoApart()
    {
        var pair = new SessionPair();
        var client = pair.Client;
        Write(client.Connection.Transport.Output, 100_000);
        client.Connection.Transport.Output.Complete();
        pair.AdvanceUntil(() => client.Session.State != KcpSessionState.Open, 1_000, "the output completing");
        Assert.Equal(KcpSessionState.Draining, client.Session.State);
        Assert.Empty(pair.CloseSignalsFrom(client));

        pair.AdvanceUntil(() => client.Session.State == KcpSessionState.Lingering, 5_000, "the drain finishing");
        Assert.Equal(KcpCloseReason.LocalClose, client.Session.CloseReason);
        Assert.Equal(1, client.Ended);
        Assert.Equal(0, client.Released);

        pair.AdvanceUntil(() => client.Session.State != KcpSessionState.Lingering, 5_000, "the linger finishing");
        Assert.Equal(KcpSessionState.Ended, client.Session.State);
        Assert.Equal(1, client.Released);
        var signals = pair.CloseSignalsFrom(client);
        Assert.Equal(1 + KcpSessionLifecycle.CloseRepeats, signals.Count);
        for (var i = 1; i < signals.Count; i++)
        {
            var gap = signals[i] - signals[i - 1];
            Assert.InRange(gap, KcpSessionLifecycle.MinRepeatIntervalMs, KcpSessionLifecycle.MaxRepeatIntervalMs);
        }

        // The peer read every byte, then saw the close.
        Assert.Equal(KcpCloseReason.RemoteClose, pair.Server.Session.CloseReason);
        Assert.Equal(100_000, ReadAll(pair.Server.Connection.Transport.Input));

        // Kestrel's dispose releases the engine of a silent session.
        await client.Connection.DisposeAsync();
        pair.Advance(1);
        Assert.Equal(KcpSessionState.Released, client.Session.State);
    }

    [Fact]
    public void RemoteClose_EndsWithoutASignalOfItsOwn_AndTheAppReadsToTheEnd()
    {
        var pair = new SessionPair();
        Write(pair.Client.Connection.Transport.Output, 10_000);
        pair.Client.Connection.Transport.Output.Complete();
        pair.AdvanceUntil(() => pair.Server.Session.IsEnded, 5_000, "the remote close");

        Assert.Equal(KcpCloseReason.RemoteClose, pair.Server.Session.CloseReason);
        Assert.Equal(KcpSessionState.Ended, pair.Server.Session.State);
        Assert.Equal(1, pair.Server.Released);
        Assert.Empty(pair.CloseSignalsFrom(pair.Server));
        Assert.Equal(10_000, ReadAll(pair.Server.Connection.Transport.Input));
    }

    [Fact]
    public void IdleTimeout_EndsBothSides_WithACloseSignal()
    {
        var pair = new SessionPair(o => o.IdleTimeout = TimeSpan.FromSeconds(2));
        pair.Advance(1_900);
        Assert.False(pair.Client.Session.IsEnded);

        pair.AdvanceUntil(() => pair.Client.Session.IsEnded && pair.Server.Session.IsEnded, 1_000, "the idle timeout");
        Assert.Equal(KcpCloseReason.IdleTimeout, pair.Client.Session.CloseReason);
        Assert.NotEmpty(pair.CloseSignalsFrom(pair.Client));
    }

    [Fact]
    public void DeadLink_EndsTheSession_WhenNothingIsAcknowledged()
    {
        var pair = new SessionPair(o => o.DeadLink = 5);
        pair.Link.Loss = 1.0;
        Write(pair.Client.Connection.Transport.Output, 1_000);
        pair.AdvanceUntil(() => pair.Client.Session.IsEnded, 20_000, "the dead link");

        Assert.Equal(KcpCloseReason.DeadLink, pair.Client.Session.CloseReason);
        Assert.Empty(pair.CloseSignalsFrom(pair.Client));
        Assert.Equal(KcpSessionState.Ended, pair.Client.Session.State);
    }

    [Fact]
    public void Abort_SignalsThePeer_AndTheAppSeesTheReason()
    {
        var pair = new SessionPair();
        var reason = new ConnectionAbortedException("test");
        pair.Client.Connection.Abort(reason);
        pair.Advance(1);

        Assert.Equal(KcpCloseReason.Aborted, pair.Client.Session.CloseReason);
        Assert.Equal(KcpSessionState.Lingering, pair.Client.Session.State);
        var error = Assert.Throws<ConnectionAbortedException>(() => pair.Client.Connection.Transport.Input.TryRead(out _));
        Assert.Same(reason, error);

        pair.AdvanceUntil(() => pair.Server.Session.IsEnded, 1_000, "the peer seeing the abort");
        Assert.Equal(KcpCloseReason.RemoteClose, pair.Server.Session.CloseReason);
    }

    [Fact]
    public async Task DisposeDuringLinger_WaitsForTheLastRepeat_ThenReleases()
    {
        var pair = new SessionPair();
        var client = pair.Client;
        client.Connection.Abort(new ConnectionAbortedException("test"));
        pair.Advance(1);
        await client.Connection.DisposeAsync();
        pair.Advance(1);
        Assert.Equal(KcpSessionState.Lingering, client.Session.State);

        pair.AdvanceUntil(() => client.Session.State == KcpSessionState.Released, 5_000, "the release");
        Assert.Equal(1 + KcpSessionLifecycle.CloseRepeats, pair.CloseSignalsFrom(client).Count);
        Assert.Equal(1, client.Released);
    }

    [Fact]
    public void LateDatagrams_AfterTheEnd_AreIgnored()
    {
        var pair = new SessionPair();
        pair.Server.Connection.Abort(new ConnectionAbortedException("test"));
        pair.AdvanceUntil(() => pair.Client.Session.State == KcpSessionState.Ended, 5_000, "the client ending");
        var sent = pair.Link.Sent.Count(s => s.From == pair.Client.Channel);
        var errors = pair.Loop.Counters.KcpInputErrors;

        // A probe from the server, sent after the client ended, and a stray segment reach it and change nothing.
        pair.Server.Session.SendControl((byte)Core.Arq.KcpCommand.WindowAsk);
        pair.Client.Session.OnPacket(new byte[24], pair.Now, 24);
        pair.Advance(200);

        Assert.Equal(sent, pair.Link.Sent.Count(s => s.From == pair.Client.Channel));
        Assert.Equal(errors, pair.Loop.Counters.KcpInputErrors);
        Assert.Equal(KcpSessionState.Ended, pair.Client.Session.State);
    }

    internal static void Write(PipeWriter writer, int bytes)
    {
        var data = new byte[bytes];
        for (var i = 0; i < bytes; i++)
        {
            data[i] = (byte)i;
        }

        AssertWritten(writer.WriteAsync(data));
    }

    internal static void AssertWritten(ValueTask<FlushResult> flush) => Assert.True(flush.IsCompleted, "the pipe took the whole write");

    internal static long ReadAll(PipeReader reader)
    {
        long total = 0;
        while (reader.TryRead(out var result))
        {
            total += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        return total;
    }
}
