using KcpKestrel.Shared;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Tests.Shared.UserTcp;

/// <summary>
/// A stand-in for the stack in a connection's own tests: one link end for output and timers, real
/// <see cref="TcpCounters"/>, a challenge-ACK budget per second (RFC 5961 §7), and the one connection it feeds
/// segments to (it is the end's <see cref="ITcpSegmentInput"/>). Records what the connection told it.
/// </summary>
internal sealed class FakeConnectionOwner : ITcpConnectionOwner, ITcpSegmentInput
{
    private readonly SegmentLinkEnd _end;
    private uint _budgetSecond;
    private int _budgetLeft;

    public FakeConnectionOwner(SegmentLinkEnd end, int challengeAcksPerSecond = 1000)
    {
        _end = end;
        ChallengeAcksPerSecond = challengeAcksPerSecond;
        end.Input = this;
    }

    public ITcpSegmentOutput Output => _end;

    public TimerWheel Timers => _end.Timers;

    public TcpCounters Counters { get; } = new();

    /// <summary>The connection segments are fed to; null drops them (counted as no connection).</summary>
    public TcpConnection? Connection { get; set; }

    /// <summary>When set, a SYN arriving while <see cref="Connection"/> is null opens one passively with these options (a one-connection listener).</summary>
    public TcpConnectionOptions? ListenOptions { get; set; }

    /// <summary>The ISS the next passive open uses.</summary>
    public uint NextIss { get; set; } = 0x7000_0000;

    /// <summary>The challenge ACKs allowed per second.</summary>
    public int ChallengeAcksPerSecond { get; set; }

    /// <summary>What <see cref="OnPassiveEstablished"/> answers.</summary>
    public bool AcceptPassive { get; set; } = true;

    /// <summary>Events set on a passively established connection, if any.</summary>
    public ITcpConnectionEvents? PassiveEvents { get; set; }

    public int PassiveEstablishedCount { get; private set; }

    public int ReleasedCount { get; private set; }

    public TcpConnection? Released { get; private set; }

    public bool OnPassiveEstablished(TcpConnection connection)
    {
        PassiveEstablishedCount++;
        if (AcceptPassive && PassiveEvents is not null)
        {
            connection.Events = PassiveEvents;
        }

        return AcceptPassive;
    }

    public void OnReleased(TcpConnection connection)
    {
        ReleasedCount++;
        Released = connection;
        if (ReferenceEquals(Connection, connection))
        {
            Connection = null; // the flow is forgotten, as the stack would
        }
    }

    public bool TryTakeChallengeAck(uint now)
    {
        var second = now / 1000;
        if (second != _budgetSecond)
        {
            _budgetSecond = second;
            _budgetLeft = ChallengeAcksPerSecond;
        }

        if (_budgetLeft <= 0)
        {
            Counters.ChallengeAcksLimited++;
            return false;
        }

        _budgetLeft--;
        return true;
    }

    public void OnSegment(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, uint now)
    {
        if (Connection is null && ListenOptions is not null && header.Flags == TcpFlags.Syn)
        {
            Connection = new TcpConnection(this, flow, ListenOptions);
            Connection.OpenPassive(header, NextIss, now);
            return;
        }

        if (Connection is null)
        {
            Counters.DroppedNoConnection++;
            return;
        }

        Connection.OnSegment(header, payload, now);
    }
}
