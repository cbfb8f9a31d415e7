using KcpKestrel.Shared;
using System.Security.Cryptography;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// One session's check of a new peer address before it moves there (QUIC's path validation): a CHALLENGE of
/// fresh random bytes to the candidate address, resent an RTO apart up to <see cref="MaxChallenges"/> times, and
/// success when a RESPONSE echoing them arrives from that address. What goes to the candidate meanwhile is held
/// to <see cref="KcpOptions.AmplificationLimit"/> times what came from it (<see cref="AmplificationBudget"/>).
/// One check at a time per session, and a new one no sooner than <see cref="MinIntervalMs"/> after the last
/// started. Loop thread only.
/// </summary>
internal sealed class PathCheck(KcpSession session, IKcpLoop loop, IDatagramChannel channel, PacketCipher cipher) : TimerWheelEntry
{
    /// <summary>CHALLENGEs sent before the check fails.</summary>
    public const int MaxChallenges = 3;

    /// <summary>Least time between the starts of two checks of one session (ms).</summary>
    public const uint MinIntervalMs = 1000;

    private const uint MinResendMs = 100;
    private const uint MaxResendMs = 1000;

    private readonly byte[] _challenge = new byte[PathValidation.DataSize];
    private byte[] _sockaddr = [];
    private AmplificationBudget _budget = new();
    private int _sent;
    private uint _nextStart;

    /// <summary>True while a check waits for its RESPONSE.</summary>
    public bool IsActive { get; private set; }

    /// <summary>The address being checked (valid while <see cref="IsActive"/>).</summary>
    public UdpAddressKey Candidate { get; private set; }

    /// <summary>Bytes the candidate address may still be sent.</summary>
    public long Remaining => _budget.Remaining;

    /// <summary>Whether a check may start now: none running, and the last one started long enough ago.</summary>
    public bool MayStart(uint now) => !IsActive && (int)(now - _nextStart) >= 0;

    /// <summary>Starts checking <paramref name="candidate"/>, whose datagram of <paramref name="wireBytes"/> asked for it.</summary>
    public void Start(UdpAddressKey candidate, ReadOnlySpan<byte> sockaddr, int wireBytes, uint now)
    {
        IsActive = true;
        Candidate = candidate;
        _sockaddr = sockaddr.ToArray();
        _budget = new AmplificationBudget();
        _budget.Require(session.Options.AmplificationLimit);
        _budget.OnReceived(wireBytes);
        RandomNumberGenerator.Fill(_challenge);
        _sent = 0;
        _nextStart = now + MinIntervalMs;
        SendChallenge(now);
    }

    /// <summary>Another datagram came from the candidate address: it raises the budget.</summary>
    public void OnReceived(int wireBytes) => _budget.OnReceived(wireBytes);

    /// <summary>A RESPONSE from <paramref name="from"/>: true when it answers the running check from its candidate.</summary>
    public bool TryComplete(UdpAddressKey from, ReadOnlySpan<byte> data)
    {
        if (!IsActive || from != Candidate || !CryptographicOperations.FixedTimeEquals(data, _challenge))
        {
            return false;
        }

        Stop();
        return true;
    }

    /// <summary>Forgets the check (it succeeded, or the session ended).</summary>
    public void Stop()
    {
        IsActive = false;
        loop.Timers.Remove(this);
    }

    public override void OnTimer(uint now)
    {
        if (!IsActive)
        {
            return;
        }

        if (_sent >= MaxChallenges || session.IsEnded)
        {
            // No answer: the candidate never receives what we send there (or cannot seal an answer). Stay put.
            IsActive = false;
            loop.Counters.PathChecksFailed++;
            return;
        }

        SendChallenge(now);
    }

    private void SendChallenge(uint now)
    {
        _sent++;
        var slot = channel.BeginSend();
        PathValidation.Write(slot[cipher.HeaderSize..], session.Conv, PathValidation.ChallengeCommand, _challenge);
        var total = cipher.Seal(slot, PathValidation.Size);
        if (_budget.TrySend(total))
        {
            channel.CommitSend(total, _sockaddr);
        }
        else
        {
            loop.Counters.AmplificationLimited++;
        }

        loop.Timers.Schedule(this, now + Math.Clamp(session.Kcp.Statistics.Rto, MinResendMs, MaxResendMs));
    }
}
