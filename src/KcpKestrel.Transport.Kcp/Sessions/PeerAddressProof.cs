using System.Buffers.Binary;
using System.Security.Cryptography;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// Whether a session's peer has proven its address, and what it may be sent until it has. A listener's
/// session starts unproven (<see cref="Require"/>); the peer proves its address by acking a segment that
/// echoes the exact ts we sent it with. Until then: <see cref="Budget"/> holds what we send to
/// <see cref="KcpOptions.AmplificationLimit"/> times what we received, KCP sends one small segment at a
/// time, and the session idles out after <see cref="KcpOptions.UnprovenIdleTimeout"/>. Loop thread only.
/// </summary>
internal sealed class PeerAddressProof(KcpOptions options)
{
    // The smallest segment payload an unproven peer is sent (bytes), whatever AmplificationLimit allows.
    private const int MinUnprovenPayload = 16;

    private readonly uint _unprovenIdleMs = (uint)Math.Min(options.UnprovenIdleTimeout.TotalMilliseconds, int.MaxValue);
    private KcpCloseReason _deferredEnd;
    private uint _deferredUntil;

    /// <summary>
    /// How long a local end (the app's abort or close) of an unproven session waits for the proof before it ends
    /// silently. Our own client proves its address one round trip into its dial, so a client the app refuses at
    /// once still gets the close signal; a spoofed victim never does.
    /// </summary>
    public const uint DeferredEndWaitMs = 1_000;

    /// <summary>What an unproven peer may still be sent.</summary>
    public AmplificationBudget Budget { get; } = new();

    public bool IsProven => Budget.IsProven;

    /// <summary>
    /// KCP's clock for this session starts at a random point, so the ts our segments carry (and a peer's ack
    /// echoes) cannot be guessed by a source that does not receive them. Only differences of KCP times
    /// matter, so the offset is invisible on the wire and to kcp-go.
    /// </summary>
    public uint ClockOffset { get; } = RandomClockOffset();

    /// <summary>The loop's time (ms) on this session's KCP clock.</summary>
    public uint KcpTime(uint now) => now + ClockOffset;

    /// <summary>A time on this session's KCP clock back on the loop's.</summary>
    public uint LoopTime(uint kcpTime) => kcpTime - ClockOffset;

    /// <summary>The idle timeout that applies now: the short unproven one until the peer proves its address.</summary>
    public uint IdleTimeoutMs(uint idleTimeoutMs) => IsProven ? idleTimeoutMs : Math.Min(idleTimeoutMs, _unprovenIdleMs);

    /// <summary>When an unproven peer that went silent is dropped, or its deferred end is due (null once proven).</summary>
    public uint? UnprovenDeadline(uint lastReceive)
    {
        if (IsProven)
        {
            return null;
        }

        var idle = lastReceive + _unprovenIdleMs;
        return _deferredEnd != KcpCloseReason.None && (int)(_deferredUntil - idle) < 0 ? _deferredUntil : idle;
    }

    /// <summary>
    /// A local end of the session for <paramref name="reason"/> at <paramref name="now"/>: true while it must wait
    /// for the peer's proof (unproven, and <see cref="DeferredEndWaitMs"/> not yet over), false to end now.
    /// </summary>
    public bool TryDeferEnd(KcpCloseReason reason, uint now)
    {
        if (IsProven)
        {
            return false;
        }

        if (_deferredEnd == KcpCloseReason.None)
        {
            _deferredEnd = reason;
            _deferredUntil = now + DeferredEndWaitMs;
        }

        return (int)(now - _deferredUntil) < 0;
    }

    /// <summary>The end that waits for the proof (<see cref="KcpCloseReason.None"/> when none does).</summary>
    public KcpCloseReason DeferredEnd => _deferredEnd;

    /// <summary>Whether a deferred end has waited long enough: the session ends without a signal.</summary>
    public bool DeferredEndDue(uint now) => _deferredEnd != KcpCloseReason.None && (int)(now - _deferredUntil) >= 0;

    /// <summary>
    /// The peer must prove its address. Until it does, one small segment at a time: a whole MTU would not fit
    /// the budget of a short request (kcp-go cannot pad its first datagram as QUIC clients do), so nothing would
    /// be sent, the peer would have nothing to ack and could never prove itself.
    /// </summary>
    public void Require(KcpControlBlock kcp, AppOutputPump appOutput, int reserved)
    {
        Budget.Require(options.AmplificationLimit);
        var perDatagram = SegmentHeader.Size + reserved;
        var mtu = Math.Clamp(options.AmplificationLimit * perDatagram, perDatagram + MinUnprovenPayload, options.Mtu);
        if (kcp.SetMtu(mtu))
        {
            appOutput.SendLimit = 1;
            appOutput.MaxChunk = mtu - perDatagram;
        }
    }

    /// <summary>After KCP input: true when this input proved the peer's address (full MTU and window from now on).</summary>
    public bool TryProve(KcpControlBlock kcp, AppOutputPump appOutput)
    {
        if (IsProven || !kcp.PeerEchoedSentTs)
        {
            return false;
        }

        Budget.MarkProven();
        kcp.SetMtu(options.Mtu);
        appOutput.ResetLimits();
        return true;
    }

    /// <summary>
    /// How an ending session tells its peer. A proven peer gets the close signal
    /// and its repeats. An unproven one may be a spoofed victim, so it gets none at all (issue #18: a refused or
    /// unproven session gets no close signal); our own client proves its address during the dial, so only a
    /// peer that never acked anything is left to idle out.
    /// </summary>
    public (bool Once, bool Repeat) CloseSignal(bool sendClose) =>
        IsProven ? (sendClose, sendClose) : (false, false);

    private static uint RandomClockOffset()
    {
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        RandomNumberGenerator.Fill(bytes);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }
}
