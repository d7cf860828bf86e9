def navigation(request):
    """What the top bar needs to know about the signed-in person (two small queries)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from accounts.selectors import user_teaches_any
    from labs.selectors import unseen_reviews_count

    return {
        "nav_is_instructor": user.is_staff or user_teaches_any(user=user),
        "nav_unseen_feedback": unseen_reviews_count(user=user),
    }
